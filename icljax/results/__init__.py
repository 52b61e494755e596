"""The built-in theorems, one folder each. Every subpackage whose ``EXPERIMENT`` is an
:class:`icljax.experiment.Experiment` is registered through the entry-point group ``icljax.experiments`` (icljax's
pyproject declares ``builtin = "icljax.results"``), the same mechanism an outside theorem uses: adding or moving a
folder needs no edit here. ``icljax-reproduce --list`` lists them.
"""

import pkgutil

# The theorem folders (computed, so that adding one needs no edit here); importing one registers nothing by itself.
__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
