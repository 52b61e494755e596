"""Experiment pipelines: ``run(config, workdir)`` for each result, on one shared driver (``base``)."""

from icljax.pipelines.base import EXPERIMENTS, get_experiment, run

__all__ = ["EXPERIMENTS", "get_experiment", "run"]
