"""The parts of matplotlib the report's charts use (Figure, tick formatters, rc_context), imported
without pyplot.

The charts need no pyplot (no global figure state: see charts.py). But once pyomo is imported (the
optimiser is, in every `tradeoff run`), pyomo.common.dependencies has put a hook on `import
matplotlib` that also imports matplotlib.pyplot and matplotlib.pylab, for pyomo's own plotting. The
report would pay for that import in every run without using any of it, so the hook is set aside
while matplotlib is imported here and put back right after: pyomo's own deferred `matplotlib`
still imports pyplot if pyomo ever plots. Nothing changes when pyomo is not imported or its
internals differ from what is expected.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def _without_pyomo_hook(name: str) -> Iterator[None]:
    """While inside, pyomo's import hook for the module `name` (if any) is not registered."""
    deps = sys.modules.get("pyomo.common.dependencies")
    finder = getattr(deps, "DeferredImportCallbackFinder", None)
    callbacks = getattr(finder, "_callbacks", None)
    if not isinstance(callbacks, dict) or name not in callbacks or name in sys.modules:
        yield
        return
    hooked = callbacks.pop(name)
    try:
        yield
    finally:
        callbacks.setdefault(name, hooked)


with _without_pyomo_hook("matplotlib"):
    import matplotlib
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

__all__ = ["Figure", "FuncFormatter", "MaxNLocator", "SubFigure", "matplotlib"]
