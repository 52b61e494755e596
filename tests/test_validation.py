"""Every config field rejects a bad value with a one-line ConfigError naming it, before anything is written.

BUILD_NOTES.md lists the accepted ranges; this table is the test of each (the CLI tests check exit status 2 and
the empty workdir for a sample of them)."""

import pytest

from icljax import configs, validation
from icljax.experiment import driver, registry

BAD_VALUES = {
    "lsa_isotropic": [
        ("d", 0), ("n", 0), ("sigma", -0.5), ("spectrum", (1.0, 0.0, 1.0, 1.0, 1.0)), ("spectrum", (1.0,)),
        ("rotation", "haar"), ("rotation_seed", -1), ("prior", "flat"), ("activation", "gelu"), ("width", 0),
        ("prior_spectrum", (1.0, 1.0, 1.0, 1.0, 1.0)), ("parameterization", "tiny"), ("normalization", "max"),
        ("include_query", 1), ("residual", "yes"),
        ("init_scale", 0.0), ("optimizer", "lion"), ("learning_rate", -1.0), ("schedule", "linear"),
        ("warmup_steps", -1), ("final_lr_fraction", 1.5), ("steps", 0), ("batch_size", 0), ("seed", -1),
        ("log_every", 0), ("eval_prompts", 10), ("theory_prompts", 10), ("experiment", "gpt"), ("estimator", "adam"),
        ("sample_size", 0), ("sampler", "bartlett"), ("x64", "yes")],
    "nn_shift": [
        ("d", 1), ("N", 0), ("sigma", 0.0), ("eta", 0.0), ("steps", 0), ("seed", -1), ("log_every", 0),
        ("labels", "uniform"), ("model", "mlp"), ("estimator", "adam"), ("init", "xavier"), ("init_scale", -1.0),
        ("sample_size", 0), ("batch_size", 0), ("tau_samples", 10), ("eval_tau_samples", 10), ("test_prompts", 0),
        ("shifts", ("rotated",)), ("shifts", ("appendix_b:3.0",)), ("shifts", ("appendix_b:x",)), ("R", 0.0),
        ("references", ((15, 1.0),)), ("shift_references", ((15, "appendix_b:0.1"),)), ("extras", ("plots",)),
        ("landscape_references", (((1.0, 2.0),),)), ("ratio_horizon", -1.0)],
    "recall": [
        ("model", "mamba"), ("attention", "gelu"), ("kappa", 2), ("alpha", 1.0), ("alpha", -0.1),
        ("V", 3), ("triggers", (0, 59)), ("outputs", (4, 5)), ("H", 3), ("eta", 0.0), ("steps", 0),
        ("seed", -1), ("batch_size", 0), ("log_every", 0), ("M", 10), ("M", -1), ("test_size", 0),
        ("eval_size", 0), ("d", 100), ("x64", "yes")],
}
# Fields whose every value is valid (names, plot ranges, reference rows of another setting are skipped).
NOT_VALIDATED = {
    "lsa_isotropic": {"name"},
    "nn_shift": {"name", "ratio_sigmas", "ratio_eta", "landscape_xi1", "landscape_xi2", "landscape_points",
                 "reference_setting", "experiment"},
    "recall": {"name", "experiment"},
}


def _cases():
  for config, rows in BAD_VALUES.items():
    for field, value in rows:
      yield pytest.param(config, field, value, id=f"{config}.{field}={value!r}")


@pytest.mark.parametrize("config_name,field,value", list(_cases()))
def test_every_field_rejects_a_bad_value(config_name, field, value, tmp_path):
  config = configs.load(config_name)
  try:
    with config.unlocked():
      config[field] = value
  except TypeError:
    return  # ml_collections' typed fields refuse a value of the wrong type (the CLI turns it into one line)
  with pytest.raises(validation.ConfigError) as e:
    driver.prepare(config, tmp_path / "run")
  message = str(e.value)
  assert "\n" not in message and "is invalid: expected" in message
  assert e.value.field == f"config.{field}"
  assert not (tmp_path / "run").exists()


def test_every_field_of_the_configs_has_a_bad_value_case():
  for config_name, rows in BAD_VALUES.items():
    tried = {f for f, _ in rows}
    untested = set(configs.load(config_name).keys()) - tried - NOT_VALIDATED[config_name]
    assert not untested, f"{config_name}: no bad-value case for {sorted(untested)}"


def test_reference_rows_of_another_setting_or_beyond_the_run_are_skipped_with_a_note():
  config = configs.load("nn_dynamics:d=6,N=10,eta=0.5,steps=2000")
  setup = registry.get("nn").setup(config)
  assert setup.references == () and any("skipped" in n for n in setup.skipped)
  setup = registry.get("nn").setup(configs.load("nn_long:steps=20000"))
  assert [r[0] for r in setup.references] == [1000, 10_000]
  assert any("t = 100000 skipped" in n for n in setup.skipped)


@pytest.mark.parametrize("spec,fragment", [
    ("nonexistent_config", "packaged config name"), ("lsa_isotropic:bogus", "variant"),
    ("lsa_isotropic:nofield=3", "a field of the config")])
def test_bad_config_names_and_arguments(spec, fragment):
  with pytest.raises(validation.ConfigError, match=fragment):
    configs.load(spec)
