# Stage 2 at toy size for CI: the composition pipeline with small crops, 64x64, batch 2, one epoch,
# on DIM-layout foregrounds and backgrounds made by the test, starting from a stage-1 checkpoint
# (--cfg-options train_dataloader.dataset.data_root=... load_from=...).
_base_ = ['../aimnet_matting.py']
_pipeline = [
    dict(type='LoadAimTrainSample'), dict(type='GenerateUSR', kernel_size=30), dict(type='ResizeBackground'),
    dict(type='RandomBackgroundBlur', kernel_sizes=(20, 30, 40, 50, 60), prob=0.5),
    dict(type='RandomTransitionCrop', crop_sizes=(48, 64, 96), fallback_size=32, transition_prob=0.5),
    dict(type='Composite'), dict(type='RandomGaussianNoise', sigma=10, prob=0.5),
    dict(type='RandomFlip', prob=0.5), dict(type='ResizeTo', size=64), dict(type='PackAimInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root='data/tiny-composition', bg_dir='BG-20k/train', pipeline=_pipeline,
                 sources=[dict(root='DIM/train', repeat=1, default_type='SO')]))
train_cfg = dict(max_epochs=1, val_interval=100)
val_dataloader = None
val_evaluator = None
val_cfg = None
load_from = None
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
