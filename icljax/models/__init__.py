"""One-layer attention models: ``init(key, spec)`` / ``apply(params, batch, spec)`` over plain dicts of arrays,
full and reduced forms side by side with the maps between them."""

from icljax.models import (
    icl_denoising,
    linattn_dynamics,
    lsa,
    lsa_chain_of_thought,
    lsa_multilayer,
    nearest_neighbor,
    nearest_neighbor_multiclass,
    recall,
    softmax_as_linear,
)

__all__ = ["icl_denoising", "linattn_dynamics", "lsa", "lsa_chain_of_thought", "lsa_multilayer", "nearest_neighbor",
           "nearest_neighbor_multiclass", "recall", "softmax_as_linear"]
