# Stage 0: an ImageNet-style folder (root/<class>/<image>), 224x224 crops.
train_dataloader = dict(
    batch_size=256, num_workers=8, persistent_workers=True,
    sampler=dict(type='EpochAwareSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='imagefolder', data_root='data/imagenet/train', size=224, train=True))
