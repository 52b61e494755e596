"""Artefact writing, workdir states and the comparison logic of the report."""

import json
import math

import numpy as np
import pytest

from icljax import report, runs, validation


def test_atomic_writes_round_trip(tmp_path):
  runs.atomic_write_json(tmp_path / "a.json", {"x": np.float32(1.5), "v": np.arange(3), "t": (1, 2),
                                                "inf": math.inf})
  assert runs.read_json(tmp_path / "a.json") == {"x": 1.5, "v": [0, 1, 2], "t": [1, 2], "inf": "inf"}
  runs.atomic_savez(tmp_path / "p.npz", {"W": np.eye(2)})
  np.testing.assert_array_equal(runs.load_npz(tmp_path / "p.npz")["W"], np.eye(2))
  runs.write_metrics(tmp_path / "m.jsonl", [{"step": 1}, {"step": 2}])
  assert runs.read_jsonl(tmp_path / "m.jsonl") == [{"step": 1}, {"step": 2}]
  assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_write_keeps_the_old_file(tmp_path):
  runs.atomic_write_json(tmp_path / "a.json", {"ok": 1})
  with pytest.raises(TypeError):
    runs.atomic_write_json(tmp_path / "a.json", {"bad": object()})
  assert runs.read_json(tmp_path / "a.json") == {"ok": 1}
  assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_workdir_states(tmp_path):
  cfg = {"a": 1}
  assert runs.check_workdir(tmp_path / "new", cfg) == "new"
  runs.atomic_write_json(tmp_path / runs.CONFIG, cfg)
  assert runs.check_workdir(tmp_path, cfg) == "partial"
  runs.atomic_write_json(tmp_path / runs.SUMMARY, {})
  assert runs.check_workdir(tmp_path, cfg) == "finished"
  with pytest.raises(validation.ConfigError, match="differs in a"):
    runs.check_workdir(tmp_path, {"a": 2})
  (tmp_path / "file").write_text("x")
  with pytest.raises(validation.ConfigError):
    runs.check_workdir(tmp_path / "file", cfg)


@pytest.mark.parametrize("kind,theory,measured,tol,passed", [
    ("rel", 1.0, 1.019, 0.02, True), ("rel", 1.0, 1.021, 0.02, False), ("abs", 0.5, 0.45, 0.06, True),
    ("max", 0.0, 0.031, 0.03, False), ("max", 0.0, 0.029, 0.03, True), ("min", 1.0, 0.995, 0.99, True),
    ("min", 1.0, float("nan"), 0.99, False), ("rel", 2.0, -2.0, 0.5, False)])
def test_comparison_pass_logic(kind, theory, measured, tol, passed):
  c = report.Comparison("q", theory, measured, tol, kind)
  assert c.passed is passed
  if math.isfinite(measured):
    assert report.Comparison.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_section_lists_every_comparison():
  cs = [report.Comparison("alpha", 1.0, 1.0, 0.1), report.Comparison("beta", 0.0, 1.0, 0.1, "max")]
  text = report.section("T", "claim.", cs, ["f/a.png"])
  assert "1/2 trained-vs-theory checks pass" in text
  assert "| alpha |" in text and "**FAIL**" in text and "![f/a.png](f/a.png)" in text
