"""Command-line entry points (absl) and ml_collections configs, one config per paper figure."""
