# AimNet with the stage-2 losses on the embedded dataset at 64x64, batch 2, iteration-based:
# a CPU smoke run of the whole training path (a few seconds per ten iterations).
#   matbench train configs/aimnet_smoke.py
_base_ = ['_base_/default_runtime.py']
_pipeline = [
    dict(type='LoadAimTrainSample', bg_same_size=True), dict(type='GenerateUSR'),
    dict(type='EstimateForegroundBackground'),
    dict(type='RandomTransitionCrop', crop_sizes=(96, 128, 160), fallback_size=64),
    dict(type='RandomFlip'), dict(type='ResizeTo', size=64), dict(type='PackAimInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteEpochAwareSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='matting_train', source=dict(type='embedded'), pipeline=_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False), collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='embedded', indices=4, pipeline=[dict(type='LoadMattingSample')]))
val_evaluator = dict(type='aim')
model = dict(type='AimMattor', stage='matting', network=dict(type='AimNet'), val_strategy=dict(type='resize'))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=20)
val_cfg = dict(type='ValLoop')
# one checkpoint, the last (AimNet with Adam's state is 660 MB a checkpoint)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=20, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
