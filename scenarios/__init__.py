"""The scenario format: schema, loading (extends, variants, --set), validation errors, ABC, hashing."""

from scenarios.errors import Problem, ScenarioError
from scenarios.hashing import content_hash
from scenarios.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "content_hash", "load", "summary"]


def load(path, overrides=None, variants=None):
    """Load, merge and validate a scenario file (see scenarios.loader.load)."""
    from scenarios.loader import load as _load

    return _load(path, overrides=overrides, variants=variants)


def summary(scenario):
    """One line about a valid scenario: name, number of SKUs, modes, families."""
    from scenarios.loader import summary as _summary

    return _summary(scenario)
