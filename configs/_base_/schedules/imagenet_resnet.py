# Stage 0: the AIM repository ships only the ImageNet weights of resnet34_mp, not their recipe;
# this is the standard ResNet one (SGD 0.1, momentum 0.9, wd 1e-4, x0.1 at epochs 30 and 60, 90
# epochs, batch 256 in total).
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=5)
