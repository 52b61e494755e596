"""Experiment configs: each module defines ``get_config()``; its docstring starts with the command that runs it."""
