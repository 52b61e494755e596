"""Artefact writing, workdir states, the check logic and the report builder."""

import json
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from icljax import runs, stats, validation
from icljax.experiment import markdown, report
from icljax.experiment.checks import Check, Checker, Tolerance
from icljax.experiment.markdown import markdown_table, table_markdown


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


def test_a_write_killed_before_its_rename_leaves_a_resumable_workdir(tmp_path):
  # SIGKILL between mkstemp and os.replace leaves '.config.json.XXXX.tmp' (CI saw a sweep refuse to resume on it).
  run = tmp_path / "run"
  run.mkdir()
  (run / runs.LOCK).write_text("")
  debris = run / ".config.json.k3x9.tmp"
  debris.write_text('{"a": ')
  assert runs.check_workdir(run, {"a": 1}) == "new"
  (run / "notes.txt").write_text("a user's file")   # anything else still makes the directory foreign
  with pytest.raises(validation.ConfigError, match="empty directory"):
    runs.check_workdir(run, {"a": 1})
  (run / "notes.txt").unlink()
  with runs.WorkdirLock(run):
    assert not debris.exists()              # the lock holder removes it: no writer can be mid-write
  assert runs.check_workdir(run, {"a": 1}) == "new"


@pytest.mark.parametrize("relation,theory,measured,tol,passed", [
    ("rel", 1.0, 1.019, 0.02, True), ("rel", 1.0, 1.021, 0.02, False), ("abs", 0.5, 0.45, 0.06, True),
    ("max", 0.0, 0.031, 0.03, False), ("max", 0.0, 0.029, 0.03, True), ("min", 1.0, 0.995, 0.99, True),
    ("min", 1.0, float("nan"), 0.99, False), ("rel", 2.0, -2.0, 0.5, False)])
def test_check_pass_logic(relation, theory, measured, tol, passed):
  c = Check("q", theory, measured, tol, relation)
  assert c.passed is passed
  if math.isfinite(measured):
    assert Check.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_checker_reads_its_table_and_scales_standard_errors():
  table = {"fixed": Tolerance(0.1, "abs", "issue", "why"),
           "se": Tolerance(4.0, "abs", "standard error", "why", per_se=True)}
  c = Checker(table)
  assert c("fixed", "a", 1.0, 1.05).passed and not c("fixed", "b", 1.0, 1.2).passed
  check = c("se", "c", 1.0, 1.03, se=0.01, floor=0.001)
  assert check.tolerance == pytest.approx(0.041) and check.passed and check.entry == "se"
  assert not c("se", "d", 1.0, 1.05, se=0.01).passed
  with pytest.raises(ValueError, match="per standard error"):
    c("se", "e", 1.0, 1.0)
  with pytest.raises(KeyError):
    c("undeclared", "f", 1.0, 1.0)
  with pytest.raises(ValueError, match="source"):
    Tolerance(1.0, "abs", "what passed", "no")


def test_run_section_and_tables_list_every_check():
  checks = [Check("alpha", 1.0, 1.0, 0.1), Check("beta", 0.0, 1.0, 0.1, "max", "claim")]
  summary = {"name": "run", "comparisons": [c.to_dict() for c in checks], "figures": ["figures/a.png"],
             "scalars": {"setting": "s"}, "notes": ["n1"]}
  text = report.run_section(summary, "run")
  assert "1/2 checks pass (theory 1/1, claim 0/1)" in text
  assert "| alpha |" in text and "**FAIL**" in text and "![run/figures/a.png](run/figures/a.png)" in text
  assert "- n1" in text
  assert markdown_table(["a|b"], [["x|y"]]).splitlines()[2] == "| x\\|y |"
  assert "| fixed | ±0.1 | theory | issue | why |" in table_markdown("T", {"fixed": Tolerance(0.1, "abs", "issue",
                                                                                            "why")})


@pytest.mark.parametrize("dof", [1, 3, 7, 30, 1000])
def test_t_factor_is_the_student_t_value_with_the_normal_tail(dof):
  tail = 2 * scipy_stats.norm.sf(4.0)
  assert stats.t_factor(dof) == pytest.approx(scipy_stats.t.isf(tail / 2, dof), rel=1e-6)


def test_a_spread_from_few_replicas_widens_the_tolerance():
  c = Checker({"se": Tolerance(4.0, "abs", "standard error", "test", per_se=True)})
  normal, few = c("se", "a", 1.0, 1.2, se=0.01), c("se", "b", 1.0, 1.2, se=0.01, dof=3)
  assert not normal.passed and few.passed and few.tolerance == pytest.approx(0.01 * stats.t_factor(3))
  assert "3 dof" in few.note


def test_sweep_table_leaves_a_cell_empty_where_a_point_lacks_the_column():
  # linattn_dynamics:rank swept over R: R = 8 drops once, R = 2 four times.
  index = [{"rank": 2, "flow_drop_1": 10.0, "flow_drop_2": 20.0, "status": "pass"},
           {"rank": 8, "flow_drop_1": 5.0, "status": "disagrees"}]
  text = report.sweep_table("T", "", index, ["rank"], {"drop 1": "flow_drop_1", "drop 2": "flow_drop_2"})
  rows = [line for line in text.splitlines() if line.startswith("| 8")]
  assert len(rows) == 1 and rows[0].split("|")[3].strip() == "" and "disagrees" in rows[0]


def test_plain_text_escapes_only_what_would_turn_into_emphasis():
  """``w* and x*`` would italicise the text between the stars; underscores inside words never do (GFM and
  Python-Markdown alike); a deliberate ``**FAIL**`` and code spans stay as written."""
  assert markdown.plain_text("w* and x*") == "w\\* and x\\*"
  assert markdown.plain_text("x_q and ridge_shrinkage") == "x_q and ridge_shrinkage"
  assert markdown.plain_text("**FAIL** `x_*`") == "**FAIL** `x_*`"
  assert markdown.plain_text("_a_ x_{1}") == "\\_a\\_ x\\_{1}"
