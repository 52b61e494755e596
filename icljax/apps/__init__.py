"""The command-line entry points (absl): ``icljax-run``, ``icljax-sweep``, ``icljax-reproduce``; also
``python -m icljax.apps.run`` etc. Each is a thin main over library code."""
