# Stage 1: AimNet on DUTS (salient object detection as a transfer task), from the stage-0 backbone.
#   matbench train configs/aimnet_duts.py --cfg-options model.backbone_checkpoint=work_dirs/aimnet_imagenet/epoch_90.pth
_base_ = ['_base_/default_runtime.py', '_base_/datasets/duts_train.py', '_base_/datasets/aim500_val.py',
          '_base_/schedules/aim_stage1.py']
model = dict(type='AimMattor', stage='sod', network=dict(type='AimNet'), backbone_checkpoint=None,
             val_strategy=dict(type='hybrid', global_ratio=1 / 4, local_ratio=1 / 2))
default_hooks = dict(checkpoint=dict(interval=5))
