# Stage 2 training data: DIM, HATT and AM-2K foregrounds (SAMPLE_BAGS 5 / 5 / 2 as the official
# config) composited on BG-20K backgrounds with their unified semantic representations (usr/;
# computed from alpha + type when missing: see tools/make_usr.py). Augmentation as core/data.py
# and core/util.py: background blur (p 0.5), noise sigma 10 (p 0.5), crop 640/960/1280 (320 when
# the image is smaller) on a transition pixel half of the time, flip, 320x320. The crop comes
# before compositing and noise (per-pixel operations, so the samples' distribution is the same as
# the official order's, for a third of the work).
_base_ = ['aim_train_loader.py']
composition_pipeline = [
    dict(type='LoadAimTrainSample'),
    dict(type='GenerateUSR', kernel_size=30),
    dict(type='ResizeBackground'),
    dict(type='RandomBackgroundBlur', kernel_sizes=(20, 30, 40, 50, 60), prob=0.5),
    dict(type='RandomTransitionCrop', crop_sizes=(640, 960, 1280), fallback_size=320, transition_prob=0.5),
    dict(type='Composite'),
    dict(type='RandomGaussianNoise', sigma=10, prob=0.5),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ResizeTo', size=320),
    dict(type='PackAimInputs')]
train_dataloader = dict(
    dataset=dict(
        type='composition', data_root='data', bg_dir='BG-20k/train', pipeline=composition_pipeline,
        sources=[dict(root='DIM/train', repeat=5, types_file='DIM/dim_hatt_type.json'),
                 dict(root='HATT/train', repeat=5, types_file='HATT/dim_hatt_type.json'),
                 dict(root='AM-2k/train', repeat=2, default_type='SO')]))
