# A few minutes of stage-2-style training on the embedded dataset on 2 CPU cores: the loss falls
# and the validation metrics (all 14 embedded images, resize at 1/2) improve over the initial
# weights, which are validated first.
#   matbench train configs/aimnet_demo.py
_base_ = ['aimnet_smoke.py']
train_cfg = dict(max_iters=200, val_interval=100)
val_dataloader = dict(dataset=dict(type='embedded', indices=None, pipeline=[dict(type='LoadMattingSample')]))
model = dict(val_strategy=dict(type='resize', ratio=1 / 2))
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='ValidateBeforeTrainHook')]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=100, by_epoch=False))
