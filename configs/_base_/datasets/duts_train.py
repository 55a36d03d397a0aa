# Stage 1 training data: DUTS-TR images + masks, trimap by dilate/erode (kernel 10), flip, 320x320
# (official core/data.py, SOD branch: no crop).
_base_ = ['aim_train_loader.py']
duts_pipeline = [
    dict(type='LoadAimTrainSample'),
    dict(type='GenerateTrimap', kernel_size=10),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ResizeTo', size=320),
    dict(type='PackAimInputs')]
train_dataloader = dict(
    dataset=dict(type='duts', data_root='data/DUTS-TR', pipeline=duts_pipeline))
