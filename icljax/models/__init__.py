"""One-layer attention models as ``init``/``apply`` pairs over plain dicts of ``jax.Array``."""

from icljax.models import lsa

__all__ = ["lsa"]
