# Stage 2 training data: DIM, HATT and AM-2K foregrounds (SAMPLE_BAGS 5 / 5 / 2 as the official
# config) composited on BG-20K backgrounds with their unified semantic representations (usr/;
# computed from alpha + type when missing: see tools/make_usr.py).
train_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True,
    sampler=dict(type='EpochAwareSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='composition', data_root='data', bg_dir='BG-20k/train',
        sources=[dict(root='DIM/train', repeat=5, types_file='DIM/dim_hatt_type.json'),
                 dict(root='HATT/train', repeat=5, types_file='HATT/dim_hatt_type.json'),
                 dict(root='AM-2k/train', repeat=2, default_type='SO')]))
