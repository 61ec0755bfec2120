"""A stable content hash of a scenario: the same world written differently hashes the same."""

from __future__ import annotations

import hashlib
import json

from scenarios.schema import Scenario


def content_hash(scenario: Scenario) -> str:
    """SHA-256 (hex, first 16 chars) of the validated scenario's canonical JSON (defaults filled in,
    keys sorted, `variants` excluded since only the applied values matter)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"variants"})
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
