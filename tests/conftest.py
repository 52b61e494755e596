"""Test configuration: CPU only, strict rank promotion to catch silent broadcasting in attention code."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
