# Stage 0 at toy size for CI: 32x32 crops, batch 4, one epoch, on a folder made by the test
# (--cfg-options train_dataloader.dataset.data_root=...).
_base_ = ['../aimnet_imagenet.py']
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(size=32, data_root='data/tiny-imagenet'))
model = dict(backbone=dict(num_classes=2))
train_cfg = dict(max_epochs=1, val_interval=100)
default_hooks = dict(logger=dict(interval=1))
env_cfg = dict(cudnn_benchmark=False)
