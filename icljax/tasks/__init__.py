"""Prompt samplers: pure functions of (key, spec, batch_size), one module per task family."""

from icljax.tasks import regression

__all__ = ["regression"]
