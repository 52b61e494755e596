"""Closed forms and reference predictors, one module per paper."""

from icljax.theory import regression

__all__ = ["regression"]
