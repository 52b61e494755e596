"""The experiment API: theorems as registered values, one driver for runs, sweeps and the main job.

* :class:`Experiment`, :class:`Plan`, :class:`Evaluation`, :class:`FigureInput`, :class:`MainJobRun`: the contract
  a theorem implements (``icljax.experiment.api``);
* :class:`Tolerance`, :class:`Check`, :class:`Checker`: declarative checks against a tolerance table;
* :func:`register` / :func:`get`: the registry of experiments by name;
* :func:`run`: one config into one workdir (a sweep group of one); ``grid`` runs sweeps, ``main_job`` the report.
"""

from icljax.experiment.api import Evaluation, Experiment, FigureInput, MainJobRun, Mutant, Plan
from icljax.experiment.checks import Check, Checker, Summary, Tolerance, summarize
from icljax.experiment.driver import prepare, run, run_points
from icljax.experiment.registry import get, names, register

__all__ = ["Check", "Checker", "Evaluation", "Experiment", "FigureInput", "MainJobRun", "Mutant", "Plan", "Summary",
           "Tolerance", "get", "names", "prepare", "register", "run", "run_points", "summarize"]
