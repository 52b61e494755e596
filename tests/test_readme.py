"""The Python examples in README.md run as written (in order, in one namespace); the first one trains result 1
for 1000 steps and ends with ``structure.assert_lsa_structure``, so it fails if the step size is not eta*."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_python_examples_run(capsys):
  blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
  assert len(blocks) >= 2
  namespace: dict = {}
  for block in blocks:
    exec(compile(block, "README.md", "exec"), namespace)
  printed = capsys.readouterr().out.split()
  assert abs(float(printed[0]) - float(printed[1])) < 0.03 * float(printed[1])   # tr(B)/d vs eta*
