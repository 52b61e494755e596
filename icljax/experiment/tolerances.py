"""Prints every registered result's tolerance table as markdown (the block BUILD_NOTES.md carries).

    python -m icljax.experiment.tolerances
"""

from icljax.experiment import checks, registry


def markdown() -> str:
  """Every registered experiment's tolerance table, in registration order.

  Returns:
    Markdown text.
  """
  return "\n\n".join(checks.table_markdown(f"{name}: {registry.get(name).title}", registry.get(name).tolerances)
                     for name in registry.names())


if __name__ == "__main__":
  print(markdown())
