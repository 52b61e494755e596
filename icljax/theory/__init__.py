"""Closed forms and reference predictors, one module per paper (Monte-Carlo theory in ``*_mc`` modules)."""

from icljax.theory import nearest_neighbor, nearest_neighbor_shift, recall, regression, regression_mc

__all__ = ["nearest_neighbor", "nearest_neighbor_shift", "recall", "regression", "regression_mc"]
