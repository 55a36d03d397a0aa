# Stage 1 (scripts/train_transfer_duts.sh): Adam, lr 1e-4, 100 epochs, batch 16 (per GPU x 1 GPU).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict(type='ValLoop')
