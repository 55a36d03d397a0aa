"""Training hooks that matbench adds to mmengine's."""
from __future__ import annotations

from mmengine.hooks import Hook

from ..registry import HOOKS


@HOOKS.register_module()
class ValidateBeforeTrainHook(Hook):
    """Run the validation loop once before the first iteration, so the logs show the metrics of
    the initial weights next to those reached by training (skipped when resuming)."""

    priority = "LOW"

    def before_train(self, runner) -> None:
        if runner.val_loop is not None and runner.iter == 0:
            runner.val_loop.run()
