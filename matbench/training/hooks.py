"""Training hooks that matbench adds to mmengine's."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..networks import load_strict
from ..registry import HOOKS


@HOOKS.register_module()
class ValidateBeforeTrainHook(Hook):
    """Run the validation loop once before the first iteration, so the logs show the metrics of
    the initial weights next to those reached by training (skipped when resuming)."""

    priority = "LOW"

    def before_train(self, runner) -> None:
        if runner.val_loop is not None and runner.iter == 0:
            runner.val_loop.run()


@HOOKS.register_module()
class StrictLoadHook(Hook):
    """A config's ``load_from``, loaded strictly and safely (``weights_only``) before training:
    into the model's ``network`` when it has one (so matbench's own training checkpoints,
    ``network.*``, and the official AIM files, bare or ``module.*``, both fit), else into the
    whole model. A file that does not fit is a one-line error naming its first odd keys."""

    priority = "VERY_HIGH"

    def __init__(self, checkpoint: str) -> None:
        self.checkpoint = checkpoint

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        load_strict(getattr(model, "network", model), self.checkpoint)
        runner.logger.info(f"Loaded the weights of {self.checkpoint} (strict)")
