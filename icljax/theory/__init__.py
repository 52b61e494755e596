"""Closed forms and reference predictors, one module per paper (Monte-Carlo theory in ``*_mc`` modules)."""

from icljax.theory import (
    icl_denoising,
    icl_denoising_energy,
    icl_denoising_linear,
    icl_denoising_mc,
    linattn_dynamics,
    lsa,
    lsa_chain_of_thought,
    lsa_exact,
    lsa_mc,
    lsa_multilayer,
    lsa_multilayer_gd,
    nearest_neighbor,
    nearest_neighbor_multiclass,
    nearest_neighbor_shift,
    recall,
    softmax_as_linear,
    softmax_as_linear_exact,
    softmax_as_linear_finite,
)

__all__ = ["icl_denoising", "icl_denoising_energy", "icl_denoising_linear", "icl_denoising_mc", "linattn_dynamics",
           "lsa", "lsa_chain_of_thought", "lsa_exact", "lsa_mc", "lsa_multilayer", "lsa_multilayer_gd",
           "nearest_neighbor", "nearest_neighbor_multiclass", "nearest_neighbor_shift", "recall", "softmax_as_linear",
           "softmax_as_linear_exact", "softmax_as_linear_finite"]
