"""Prompt samplers: pure functions of (key, spec, batch_size), one module per task family."""

from icljax.tasks import (
    icl_denoising,
    nearest_neighbor,
    nearest_neighbor_multiclass,
    nearest_neighbor_shift,
    recall,
    regression,
    regression_statistics,
    softmax_as_linear,
)

__all__ = ["icl_denoising", "nearest_neighbor", "nearest_neighbor_multiclass", "nearest_neighbor_shift", "recall",
           "regression", "regression_statistics", "softmax_as_linear"]
