"""The several-layers config, read once into frozen specs (its fields are declared in ``config.py``).

Reference: docs page "lsa_multilayer", section "Setting".
"""

from __future__ import annotations

import dataclasses

from icljax import validation
from icljax.experiment import specs
from icljax.models import lsa_multilayer as model
from icljax.results.lsa_multilayer.config import MultilayerConfig
from icljax.tasks import regression


@dataclasses.dataclass(frozen=True)
class MultilayerSetup:
  """Everything a multi-layer run reads.

  Attributes:
    run: name, seed, steps, logging.
    task: the regression prompts (inverse-covariance prior, noiseless).
    model: d, n, L, initialisation scale, whether B_l is trained.
    optimizer: the optimiser (``specs.optimizer_spec``: Adam/SGD with a schedule, or L-BFGS).
    sample_size: 0: fresh batches of ``batch_size`` every step; > 0: one fixed sample of that many prompts (the
      authors' L-BFGS protocol; L-BFGS needs a deterministic loss).
    batch_size, eval_prompts: sample sizes.
    noise_prompts: fresh prompts that estimate the trained layers' sampling noise (the isotropy checks' tolerances).

  Reference: docs page "lsa_multilayer", section "Setting".
  """

  run: specs.RunSpec
  task: regression.RegressionSpec
  model: model.MultilayerSpec
  optimizer: specs.OptimizerSpec
  sample_size: int
  batch_size: int
  eval_prompts: int
  noise_prompts: int

  @property
  def objective_prompts(self) -> int:
    """M, the prompts the training objective averages: the fixed sample, else one fresh batch."""
    return self.sample_size or self.batch_size


def parse(config: MultilayerConfig) -> MultilayerSetup:
  """Reads a validated several-layers config into specs; the rules that tie fields together raise ``ConfigError``
  naming the field.

  Args:
    config: the typed config (every field already checked against its declaration).

  Returns:
    The setup.

  Raises:
    ConfigError: a rule that ties fields together is broken (a spectrum whose length is not d, n < d, L-BFGS
      without a fixed sample).

  Reference: docs page "lsa_multilayer", sections "Setting" and "Fields".
  """
  if config.spectrum is not None and len(config.spectrum) != config.d:
    raise validation.ConfigError("config.spectrum", config.spectrum, f"a sequence of d = {config.d} numbers > 0, "
                                 "or None (the identity)")
  if config.n < config.d:
    raise validation.ConfigError("config.n", config.n, f"an integer >= d = {config.d} (the learned steps' noise and "
                                 "Theorem 4's optimum draw the eigenvalues of S = Z^T Z / n from the Laguerre model, "
                                 "which needs n >= d)")
  if config.optimizer == "lbfgs" and not config.sample_size:
    raise validation.ConfigError("config.sample_size", config.sample_size, ">= 1 with optimizer 'lbfgs' (it needs "
                                 "a deterministic loss: one fixed sample)")
  task = regression.make_spec(config.d, config.n, 0.0, spectrum=config.spectrum, rotation=config.rotation,
                              rotation_seed=config.rotation_seed, prior="inv_cov")
  spec = model.MultilayerSpec(task.d, task.n, config.L, config.init_scale, train_b=config.layer_class == "with_b")
  return MultilayerSetup(run=specs.run_spec(config), task=task, model=spec, optimizer=specs.optimizer_spec(config),
                         sample_size=config.sample_size, batch_size=config.batch_size,
                         eval_prompts=config.eval_prompts, noise_prompts=config.noise_prompts)
