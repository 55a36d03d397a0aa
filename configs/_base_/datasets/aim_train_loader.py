# The DataLoader of the AIM training stages: batch 16 as the official train.py, 8 workers kept
# across epochs, and a sampler that carries the epoch into the workers (reproducible augmentation).
train_dataloader = dict(
    batch_size=16, num_workers=8, persistent_workers=True,
    sampler=dict(type='EpochAwareSampler', shuffle=True), collate_fn=dict(type='default_collate'))
