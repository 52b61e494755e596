"""Plumbing shared by the absl entry points: configs and plug-ins, ``--help``, one-line errors with exit status 2,
signals.

Exit statuses of the three commands: 0 every check passes (a paper's claim the numbers contradict is reported, not
failed), 1 a check fails (any run or grid point), 2 bad input or a corrupted artefact (one line on stderr, nothing
written or overwritten), 3 NaN/Inf (the last good checkpoint is kept), 4 another process of a multi-process run
stopped (the last good checkpoints are kept), 130/143 interrupted by SIGINT/SIGTERM (the same command resumes).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import jax
from absl import app, flags, logging

from icljax import compilation_cache, runs, validation
from icljax.experiment import configs, registry

_CACHE = flags.DEFINE_bool("compilation_cache", True, "Reuse compiled programs across runs through JAX's persistent "
                           "compilation cache ($ICLJAX_COMPILATION_CACHE, else ~/.cache/icljax/jax); "
                           "--nocompilation_cache turns it off.")
_QUIET = flags.DEFINE_bool("quiet", False, "No progress lines: only the final line, failures on stderr and the exit "
                           "status.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Also every chunk's losses, every check with its tolerance, the "
                             "time split (plan/compile/train/evaluate/figures) and JAX's own info logs (stderr).")
_PLUGIN = flags.DEFINE_multi_string("plugin", [], "A theorem outside icljax: a module name, a .py file or a package "
                                    "directory defining EXPERIMENT (repeatable). Installed packages that declare the "
                                    "entry-point group icljax.experiments need no flag.")
_DETERMINISTIC = flags.DEFINE_bool("deterministic", False, "Deterministic GPU/TPU kernels (XLA flag "
                                   "--xla_gpu_deterministic_ops=true, set before JAX starts): bitwise-repeatable "
                                   "runs on accelerators at some speed cost; CPU runs are deterministic anyway.")
_LIST = flags.DEFINE_bool("list", False, "List every registered theorem and its packaged configs, then exit.")

_OVERRIDES: dict[str, str] = {}
HELP_TAIL = ("List the theorems and their packaged configs: {cmd} --list. A config's fields (default, accepted "
             "values, meaning) and variants: icljax-run --config=NAME --describe. Override a field: "
             "--config.FIELD=VALUE.")


def fail(message: str) -> NoReturn:
  """Prints one line on stderr and exits with status 2 (bad input; nothing was written).

  Args:
    message: the error (its whitespace is collapsed to single spaces).

  Raises:
    SystemExit: always, with status 2.

  Reference: docs page "concepts/runs", section "Exit statuses (all three commands)".
  """
  print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
  sys.exit(2)


def overrides() -> dict[str, str]:
  """The ``--config.FIELD=VALUE`` arguments of the command line.

  Returns:
    field -> text (parsed later by the field's type).

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  return dict(_OVERRIDES)


def _split_overrides(argv: Sequence[str]) -> list[str]:
  rest = []
  for arg in argv:
    if arg.startswith("--config."):
      key, sep, text = arg[len("--config."):].partition("=")
      if not sep or not key:
        fail(f"{arg} is invalid: expected --config.FIELD=VALUE")
      _OVERRIDES[key] = text
    else:
      rest.append(arg)
  return rest


def _help(main_module: str) -> NoReturn:
  module = sys.modules[main_module]
  cmd = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else main_module
  text = [(module.__doc__ or "").strip(), "", "Flags of this command:",
          flags.FLAGS.module_help(module) or "  (none)", "", "Flags of every icljax command:",
          flags.FLAGS.module_help(sys.modules[__name__]),
          "", "JAX's flags (--jax_enable_x64, --jax_platforms, ...): --helpfull.", "",
          HELP_TAIL.format(cmd=cmd)]
  print("\n".join(text))
  sys.exit(0)


def parse_flags(argv: Sequence[str], main_module: str) -> list[str]:
  """absl ``flags_parser``: ``--help`` lists this command's own flags; ``--config.FIELD=VALUE`` arguments are kept
  for the typed config; every parsing failure is one line, exit 2.

  Args:
    argv: the full command line (program name first).
    main_module: the module whose flags and docstring ``--help`` shows.

  Returns:
    The arguments absl leaves (the program name and any positional arguments).

  Raises:
    SystemExit: 0 after ``--help``; 2 on a flag error or a malformed ``--config.FIELD=VALUE``.

  Reference: docs page "concepts/runs", section "Exit statuses (all three commands)".
  """
  if any(a in ("--help", "-h", "--helpshort", "-?") for a in argv[1:]):
    try:
      flags.FLAGS(list(argv[:1]))   # defaults only, so module_help can show them
    except flags.Error:
      pass
    _help(main_module)
  try:
    return flags.FLAGS(_split_overrides(argv))
  except flags.Error as e:
    fail(str(e).replace("flag --", "--"))


def start(argv: Sequence[str]) -> None:
  """The prologue of every entry point: no positional arguments; logging; plug-ins; ``--list``; determinism.

  Args:
    argv: the arguments absl left (the program name only, or it fails).

  Returns:
    None.

  Raises:
    SystemExit: 0 after ``--list``; 2 on positional arguments, ``--quiet`` with ``--verbose`` or a bad plug-in.

  Reference: docs page "concepts/configs", sections "Presets, variants and words" (``--list``) and "Outside
  theorems are first-class" (``--plugin``).
  """
  if len(argv) > 1:
    fail(f"unexpected arguments: {' '.join(argv[1:])}")
  if _QUIET.value and _VERBOSE.value:
    fail("--quiet and --verbose exclude each other")
  if _DETERMINISTIC.value:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_gpu_deterministic_ops=true").strip()
  logging.set_verbosity(logging.INFO if _VERBOSE.value else logging.WARNING)
  for spec in _PLUGIN.value:
    guarded(registry.load_plugin, spec)
  if _LIST.value:
    print(configs.listing())
    sys.exit(0)


def deterministic() -> bool:
  """Whether ``--deterministic`` was given.

  Returns:
    The flag's value.

  Reference: docs page "concepts/runs", section "The main job" (``--deterministic``).
  """
  return _DETERMINISTIC.value


def load_config(spec: str | None, describe: bool = False) -> Any:
  """The typed config of ``--config`` with the command line's overrides (bad input: one line, exit 2).

  Args:
    spec: the ``--config`` value.
    describe: print the config's fields and variants and exit 0 instead.

  Returns:
    The config.

  Raises:
    SystemExit: 2 on bad input (one line on stderr); 0 after ``--describe``.

  Reference: docs page "concepts/configs", section "Presets, variants and words".
  """
  if not spec:
    fail("--config is required (a packaged config such as lsa_isotropic, or a theorem's .py file; --list lists "
         "them)")
  if describe:
    print(guarded(configs.describe, guarded(configs.load, spec).preset))
    sys.exit(0)
  return guarded(configs.load, spec, overrides())


class Terminated(Exception):
  """Raised in the main thread when SIGTERM arrives."""


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
  """Runs ``fn`` and turns the toolkit's user-facing failures into one line on stderr and an exit status.

  ConfigError / ArtefactError -> 2 (bad input or a corrupted artefact; nothing overwritten), NumericalFault -> 3
  (NaN/Inf; the last good checkpoint is intact), PeerLost -> 4 (another process of a multi-process run stopped;
  at once, without waiting for JAX's shutdown barrier), SIGINT -> 130, SIGTERM -> 143 (rerun the same command to
  resume from the last checkpoint).

  Args:
    fn: the work.
    *args: its positional arguments.
    **kwargs: its keyword arguments.

  Returns:
    What ``fn`` returns.

  Raises:
    SystemExit: with status 2, 3, 130 or 143 as above (a lost peer ends the process with ``os._exit(4)``).

  Reference: docs page "concepts/runs", section "Exit statuses (all three commands)".
  """

  def on_term(signum, frame):
    del signum, frame
    raise Terminated()

  signal.signal(signal.SIGTERM, on_term)
  # Explicitly: a process started in the background by a non-interactive shell inherits SIGINT ignored, and Python
  # then installs no KeyboardInterrupt handler; the exit-130 contract must not depend on the parent.
  signal.signal(signal.SIGINT, signal.default_int_handler)
  try:
    return fn(*args, **kwargs)
  except (validation.ConfigError, runs.ArtefactError) as e:
    fail(str(e))
  except runs.NumericalFault as e:
    print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
    sys.exit(3)
  except runs.PeerLost as e:
    print(f"error: {' '.join(str(e).split())}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Not sys.exit: JAX's exit handler would wait in the distributed shutdown barrier for the lost process until
    # the heartbeat timeout, then abort. Every artefact is already written atomically; the locks die with us.
    os._exit(4)
  except KeyboardInterrupt:
    print("interrupted (SIGINT): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(130)
  except Terminated:
    print("terminated (SIGTERM): rerun the same command to resume from the last checkpoint", file=sys.stderr)
    sys.exit(143)


def printer() -> Callable[[str], None]:
  """Progress lines on stdout (flushed); nothing with ``--quiet`` or on any process but 0 of a multi-process run.

  Returns:
    The printer.

  Reference: README.md, the paragraph after the install commands (the progress lines).
  """
  return (lambda s: None) if _QUIET.value or jax.process_index() else (lambda s: print(s, flush=True))


def quiet() -> bool:
  """Whether ``--quiet`` was given.

  Returns:
    The flag's value.

  Reference: README.md, the paragraph after the install commands (the progress lines).
  """
  return _QUIET.value


def run_app(main: Callable[[list[str]], int]) -> None:
  """Starts an absl app with JAX's flags (``--jax_enable_x64``, ``--jax_platforms``), this command's ``--help``,
  one-line flag errors and the persistent compilation cache (unless ``--nocompilation_cache``).

  Args:
    main: the command's main function (its module's flags are the ones ``--help`` lists).

  Raises:
    SystemExit: when the command ends, with ``main``'s return value as the exit status.

  Reference: docs page "concepts/runs", section "Exit statuses (all three commands)".
  """
  jax.config.parse_flags_with_absl()

  def with_cache(argv: list[str]) -> int:
    if _CACHE.value:
      compilation_cache.enable()
    return main(argv)

  app.run(with_cache, flags_parser=lambda argv: parse_flags(argv, main.__module__))
