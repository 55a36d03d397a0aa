# Validation during training: AIM-500 at full size with the official hybrid strategy and the
# "aim" metrics (the numbers `matbench eval` gives). Point data_root at your copy.
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='aim500', data_root='data/AIM-500', pipeline=[dict(type='LoadMattingSample')]))
val_evaluator = dict(type='aim')
