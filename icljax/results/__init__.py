"""The built-in theorems, one folder each. Every subpackage whose ``EXPERIMENT`` is an
:class:`icljax.experiment.Experiment` is registered through the entry-point group ``icljax.experiments`` (icljax's
pyproject declares ``builtin = "icljax.results"``), the same mechanism an outside theorem uses: adding or moving a
folder needs no edit here. ``icljax-reproduce --list`` lists them.
"""
