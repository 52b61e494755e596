"""Markdown for people: the one table builder (REPORT.md, SWEEP.md, the docs' generated tables) and text escaped
so that it reads as written."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from icljax.experiment.checks import Tolerance


def table_markdown(title: str, table: Mapping[str, Tolerance]) -> str:
  """A result's tolerance table as markdown (entry, tolerance, kind, source, why).

  Args:
    title: heading text.
    table: the tolerance table.

  Returns:
    Markdown text.

  Reference: docs page "concepts/checks" (its opening: the tolerance tables, generated from the code).
  """
  rows = [[name, tol.text, tol.kind + (" (disputed)" if tol.disputed else ""), tol.source,
           tol.why + (f" Disputed: {tol.disputed}" if tol.disputed else "")] for name, tol in table.items()]
  return f"#### {title}\n\n" + markdown_table(["entry", "tolerance", "kind", "source", "why"], rows)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
  """The one markdown-table builder: cells are converted with ``str`` and pipes escaped.

  Args:
    header: column names.
    rows: cell values.

  Returns:
    Markdown text (no trailing newline).

  Reference: docs page "concepts/runs", sections "Sweeps" (SWEEP.md) and "The main job" (REPORT.md).
  """
  lines = ["| " + " | ".join(map(_cell, header)) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(map(_cell, r)) + " |" for r in rows]
  return "\n".join(lines)


def _cell(value: Any) -> str:
  """A table cell: pipes escaped, and plain text as :func:`plain_text`."""
  return plain_text(str(value).replace("|", "\\|"))


def plain_text(text: str) -> str:
  """Text written for people (a check's quantity, a preset's description) as markdown that reads as written: a
  lone ``*`` and an ``_`` at a word's edge are escaped outside code spans, so ``w* and x*`` does not turn italic,
  while ``x_q``, ``ridge_shrinkage`` (underscores inside a word never make emphasis) and a deliberate ``**FAIL**``
  stay as they are.

  Args:
    text: the text.

  Returns:
    Markdown.

  Reference: docs page "concepts/checks", section "Kinds: what a check is evidence of" (a check's quantity).
  """
  parts = text.split("`")
  return "`".join(p if i % 2 else _ESCAPE.sub(lambda m: "\\" + m.group(0), p) for i, p in enumerate(parts))


_ESCAPE = re.compile(r"(?<!\*)\*(?!\*)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
