"""The scenario format: schema, loading (extends, variants, --set), validation errors, ABC, hashing."""

from scenarios.errors import Problem, ScenarioError
from scenarios.hashing import content_hash
from scenarios.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "content_hash", "load"]


def load(path, overrides=None, variants=None):
    """Load, merge and validate a scenario file (see scenarios.loader.load)."""
    from scenarios.loader import load as _load

    return _load(path, overrides=overrides, variants=variants)
