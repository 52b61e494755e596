"""The experiment API: theorems as registered values, one driver for runs, sweeps and the main job.

* :class:`Experiment`, :class:`Plan`, :class:`Evaluation`, :class:`FigureInput`, :class:`Preset`, :class:`RunRef`,
  :class:`MainJobRun`, :class:`Mutant`: the contract a theorem implements (``icljax.experiment.api``);
* ``fields``: config fields declared once (:class:`fields.Config`, :func:`fields.field` and the accepted ranges);
* :class:`Tolerance`, :class:`Check`, :class:`Checker`, :func:`summarize`: declarative checks against a tolerance
  table, and what they come to;
* :func:`register` / :func:`get` / :func:`names` / :func:`load_plugin`: the registry (entry-point group
  ``icljax.experiments``, ``--plugin``);
* :func:`load`: a config by preset name and words; :func:`run`: one config into one workdir (a sweep group of
  one); ``grid`` runs sweeps, ``main_job`` the report, ``mutants`` the code-path mutant catalogue.
"""

from icljax.experiment import fields
from icljax.experiment.api import Evaluation, Experiment, FigureInput, MainJobRun, Mutant, Plan, Preset, RunRef
from icljax.experiment.checks import Check, Checker, Summary, Tolerance, summarize
from icljax.experiment.configs import load
from icljax.experiment.driver import prepare, run, run_points
from icljax.experiment.registry import get, load_plugin, names, register

__all__ = ["Check", "Checker", "Evaluation", "Experiment", "FigureInput", "MainJobRun", "Mutant", "Plan", "Preset",
           "RunRef", "Summary", "Tolerance", "fields", "get", "load", "load_plugin", "names", "prepare", "register",
           "run", "run_points", "summarize"]
