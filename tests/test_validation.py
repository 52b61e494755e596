"""Every field of every packaged config rejects a value outside its declared range with a one-line ConfigError
naming the field, the value and the accepted range, before anything is written. The cases are generated from the
declarations (``icljax.experiment.fields``): each accepted-value maker knows values it rejects. The command line
turns the same errors into one line on stderr and exit status 2 (one subprocess per theorem)."""

import subprocess
import sys

import pytest

from icljax import validation
from icljax.experiment import configs, driver, fields, registry


def _cases():
  for name in registry.names():
    experiment = registry.get(name)
    for preset in experiment.presets:
      for key in fields.declarations(experiment.config):
        if key in experiment.config.FIXED:
          continue
        yield pytest.param(preset.name, key, id=f"{preset.name}.{key}")


@pytest.mark.parametrize(("preset", "key"), list(_cases()))
def test_every_field_of_every_packaged_config_rejects_a_bad_value(preset, key, tmp_path):
  config = configs.load(preset)
  accept = fields.declarations(type(config))[key].metadata["accept"]
  assert accept.bad(), f"{preset}.{key}: its accepted values name no bad example"
  for bad in accept.bad():
    with pytest.raises(validation.ConfigError) as e:
      driver.prepare(fields.replace(config, **{key: bad}), tmp_path / "run")
    message = str(e.value)
    assert "\n" not in message and e.value.field == f"config.{key}" and repr(bad) in message
    assert f"is invalid: expected {accept.text}" in message
  assert not (tmp_path / "run").exists()


def test_a_preset_override_of_an_unknown_field_names_the_closest_field():
  name = registry.get(registry.names()[0]).presets[0].name
  some_field = next(k for k in fields.declarations(configs.load(name).__class__) if len(k) > 3 and k != "preset")
  with pytest.raises(validation.ConfigError, match=f"did you mean '{some_field}'"):
    configs.load(name, {some_field + "x": "1"})
  with pytest.raises(validation.ConfigError, match="it is set by --config=NAME"):
    configs.load(name, {"preset": "other"})


@pytest.mark.parametrize(("spec", "fragment"), [
    ("nonexistent_config", "a packaged config"), ("lsa_isotropic:bogus", "variant"),
    ("lsa_isotropic:nofield=3", "a declared field")])
def test_bad_config_names_and_arguments(spec, fragment):
  with pytest.raises(validation.ConfigError, match=fragment):
    configs.load(spec)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(registry.names()))
def test_bad_input_on_the_command_line_is_one_line_exit_2_nothing_written(name, tmp_path):
  """The first numeric field of the theorem's first preset, given its first bad value, and an unknown field."""
  experiment = registry.get(name)
  preset = experiment.presets[0].name
  key, f = next((k, f) for k, f in fields.declarations(experiment.config).items()
                if k not in ("preset", "name") and f.metadata["accept"].bad())
  bad = f.metadata["accept"].bad()[0]
  for override in (f"--config.{key}={bad!r}", f"--config.{key}x=1"):
    out = subprocess.run([sys.executable, "-m", "icljax.apps.run", f"--config={preset}", override,
                          f"--workdir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(f"error: config.{key}") and "\\n" not in out.stderr
    assert not (tmp_path / "run").exists()


def test_every_run_refs_spec_loads_the_same_config():
  """``RunRef.spec`` is the same config as a ``--config`` value (string overrides are written quoted, and a quoted
  string reads as the string): the science gate keys its shared runs by it."""
  for name in registry.names():
    experiment = registry.get(name)
    refs = [*experiment.main_job, *([experiment.gate] if experiment.gate else []),
            *(m.gate for m in experiment.mutants if m.gate)]
    for ref in refs:
      assert configs.load(ref.spec) == configs.load(ref), ref.spec
