"""Shared plumbing of the absl entry points: one-line errors with exit status 2, and no tracebacks."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from typing import NoReturn

from absl import flags


def fail(message: str) -> NoReturn:
  """Prints one line on stderr and exits with status 2 (bad input; nothing was written)."""
  print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
  sys.exit(2)


def _config_fields(argv: Sequence[str]) -> list[str]:
  for arg in argv:
    if arg.startswith("--config="):
      try:
        return sorted(runpy.run_path(arg.split("=", 1)[1])["get_config"]().keys())
      except Exception:  # pylint: disable=broad-except
        return []
  return []


def parse_flags(argv: Sequence[str]) -> list[str]:
  """absl ``flags_parser`` that turns every parsing failure into one line on stderr and exit status 2."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    fail(str(e).replace("flag --", "--"))
  except (AttributeError, KeyError) as e:
    # ml_collections raises these for an override of a field that does not exist.
    missing = str(e).strip("'\"")
    bad = [a for a in argv if a.startswith("--config.") and missing.strip("'\"") in a.split("=", 1)[0].split(".")]
    fields = _config_fields(argv)
    shown = bad[0] if bad else f"--config.{missing}"
    fail(f"{shown} is invalid: no such config field" + (f" (fields: {', '.join(fields)})" if fields else ""))
  except (OSError, SyntaxError, ValueError, TypeError) as e:
    fail(f"could not load the config: {e}")


class Terminated(Exception):
  """Raised in the main thread when SIGTERM arrives."""


def guarded(fn, *args, **kwargs):
  """Runs ``fn`` and turns the toolkit's user-facing failures into one line on stderr and an exit status.

  ConfigError / ArtefactError -> 2 (bad input or a corrupted artefact; nothing overwritten), NumericalFault -> 3
  (NaN/Inf; the last good checkpoint is intact), SIGINT -> 130, SIGTERM -> 143 (rerun the same command to resume
  from the last checkpoint).
  """
  import signal  # pylint: disable=import-outside-toplevel
  from icljax import runs, validation  # pylint: disable=import-outside-toplevel

  def on_term(signum, frame):
    del signum, frame
    raise Terminated()

  signal.signal(signal.SIGTERM, on_term)
  try:
    return fn(*args, **kwargs)
  except (validation.ConfigError, runs.ArtefactError) as e:
    fail(str(e))
  except runs.NumericalFault as e:
    print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
    sys.exit(3)
  except KeyboardInterrupt:
    print("interrupted (SIGINT): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(130)
  except Terminated:
    print("terminated (SIGTERM): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(143)


def run_app(main) -> None:
  """Starts an absl app with JAX's flags (``--jax_enable_x64``, ``--jax_platforms``) and one-line flag errors."""
  import jax  # pylint: disable=import-outside-toplevel
  from absl import app  # pylint: disable=import-outside-toplevel
  jax.config.parse_flags_with_absl()
  app.run(main, flags_parser=parse_flags)
