"""Every config field rejects a bad value with a one-line ConfigError naming it, before anything is written.

BUILD_NOTES.md lists the accepted ranges; this table is the test of each (the CLI tests check exit status 2 and
the empty workdir for a sample of them)."""

import importlib

import pytest

from icljax import validation
from icljax.pipelines import base

BAD_VALUES = {
    "lsa_isotropic": [
        ("d", 0), ("n", 0), ("sigma", -0.5), ("spectrum", (1.0, 0.0, 1.0, 1.0, 1.0)), ("spectrum", (1.0,)),
        ("rotation", "haar"), ("rotation_seed", -1), ("prior", "flat"), ("activation", "gelu"), ("width", 0),
        ("parameterization", "tiny"), ("normalization", "max"), ("include_query", 1), ("residual", "yes"),
        ("init_scale", 0.0), ("optimizer", "lion"), ("learning_rate", -1.0), ("schedule", "linear"),
        ("warmup_steps", -1), ("final_lr_fraction", 1.5), ("steps", 0), ("batch_size", 0), ("seed", -1),
        ("log_every", 0), ("eval_prompts", 10), ("theory_prompts", 10), ("tol_B", 0.0), ("tol_loss", -1.0),
        ("tol_pred", 0.0), ("tol_leak", 0.0), ("experiment", "gpt"), ("estimator", "adam"), ("sample_size", 0),
        ("sampler", "bartlett")],
    "nn_shift": [
        ("d", 1), ("N", 0), ("sigma", 0.0), ("eta", 0.0), ("steps", 0), ("seed", -1), ("log_every", 0),
        ("labels", "uniform"), ("model", "mlp"), ("estimator", "adam"), ("init", "xavier"), ("init_scale", -1.0),
        ("sample_size", 0), ("batch_size", 0), ("tau_samples", 10), ("eval_tau_samples", 10), ("test_prompts", 0),
        ("shifts", ("rotated",)), ("shifts", ("appendix_b:3.0",)), ("shifts", ("appendix_b:x",)), ("R", 0.0),
        ("references", ((15, 1.0, 1.0, 1.0, 1.0),))],
    "recall": [
        ("model", "mamba"), ("attention", "gelu"), ("kappa", 2), ("alpha", 1.0), ("alpha", -0.1),
        ("V", 3), ("triggers", (0, 59)), ("outputs", (4, 5)), ("H", 3), ("eta", 0.0), ("steps", 0),
        ("seed", -1), ("batch_size", 0), ("log_every", 0), ("M", 10), ("M", -1), ("test_size", 0),
        ("eval_size", 0), ("d", 100), ("x64", "yes")],
}


def _cases():
  for config, rows in BAD_VALUES.items():
    for field, value in rows:
      yield pytest.param(config, field, value, id=f"{config}.{field}={value!r}")


@pytest.mark.parametrize("config_name,field,value", list(_cases()))
def test_every_field_rejects_a_bad_value(config_name, field, value):
  config = importlib.import_module(f"experiments.configs.{config_name}").get_config()
  try:
    with config.unlocked():
      config[field] = value
  except TypeError:
    return  # ml_collections' typed fields refuse a value of the wrong type (the CLI turns it into one line)
  with pytest.raises(validation.ConfigError) as e:
    base.validate(config)
  message = str(e.value)
  assert "\n" not in message and "is invalid: expected" in message
  assert e.value.field.split(" ")[0] in (f"config.{field}",)


def test_every_field_of_the_configs_has_a_bad_value_case():
  skip = {"name", "experiment"}
  for config_name, rows in BAD_VALUES.items():
    config = importlib.import_module(f"experiments.configs.{config_name}").get_config()
    tried = {f for f, _ in rows}
    untested = set(config.keys()) - tried - skip - _NOT_VALIDATED[config_name]
    assert not untested, f"{config_name}: no bad-value case for {sorted(untested)}"


# Fields whose every value is valid (free-form labels, plot ranges, reference tables checked by content).
_NOT_VALIDATED = {
    "lsa_isotropic": set(),
    "nn_shift": {"family_atol", "tol_reference", "tol_reference_late", "shift_references", "tol_shift_reference",
                 "extras", "ratio_sigmas",
                 "ratio_eta", "landscape_xi1", "landscape_xi2", "landscape_points", "landscape_references"},
    "recall": {"experiment"},
}
