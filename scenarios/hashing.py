"""A stable content hash of a scenario: the same world written differently hashes the same."""

from __future__ import annotations

import hashlib
import json
import os

from scenarios.schema import Scenario


def _file_digest(path: str) -> str:
    """`sha256:<hex>` of a file's bytes (so that an absolute path does not leak into the hash)."""
    from scenarios.yaml_io import MAX_HISTORY_BYTES, open_input

    h = hashlib.sha256()
    fh, _ = open_input(path, os.path.basename(path), "demand history CSV", MAX_HISTORY_BYTES)  # no FIFO, no /proc
    with fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def content_hash(scenario: Scenario) -> str:
    """SHA-256 (hex, first 16 chars) of the validated scenario's canonical JSON (defaults filled in,
    keys sorted, `variants` excluded since only the applied values matter). File paths in the data
    (`demand_history_csv`) are replaced by a digest of the file's content, so the same scenario
    hashes the same wherever it lives; empirical CSVs are already read into `values` by the loader."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"variants"})
    hist = data.get("demand_history_csv")
    if isinstance(hist, str) and os.path.isfile(hist):
        data["demand_history_csv"] = _file_digest(hist)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
