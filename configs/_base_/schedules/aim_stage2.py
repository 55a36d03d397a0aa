# Stage 2 (scripts/train_matting.sh): Adam, lr 1e-6, 50 epochs, batch 16, from the stage-1 weights.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-6))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=5)
val_cfg = dict(type='ValLoop')
