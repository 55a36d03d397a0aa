# Stage 1 at toy size for CI: 64x64, batch 2, one epoch, no validation, on DUTS-layout data made
# by the test (--cfg-options train_dataloader.dataset.data_root=...).
_base_ = ['../aimnet_duts.py']
_pipeline = [dict(type='LoadAimTrainSample'), dict(type='GenerateTrimap', kernel_size=10),
             dict(type='RandomFlip', prob=0.5), dict(type='ResizeTo', size=64), dict(type='PackAimInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='data/tiny-duts', pipeline=_pipeline))
train_cfg = dict(max_epochs=1, val_interval=100)
val_dataloader = None
val_evaluator = None
val_cfg = None
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
