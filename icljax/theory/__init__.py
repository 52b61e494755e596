"""Closed forms and reference predictors, one module per paper (Monte-Carlo theory in ``*_mc`` modules)."""

from icljax.theory import linattn_dynamics, nearest_neighbor, nearest_neighbor_shift, recall, regression, regression_mc

__all__ = ["linattn_dynamics", "nearest_neighbor", "nearest_neighbor_shift", "recall", "regression", "regression_mc"]
