"""One-layer attention models: ``init(key, spec)`` / ``apply(params, batch, spec)`` over plain dicts of arrays,
full and reduced forms side by side with the maps between them."""

from icljax.models import lsa, recall, softmax_attention

__all__ = ["lsa", "recall", "softmax_attention"]
