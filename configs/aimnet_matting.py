# Stage 2: AimNet on composited DIM / HATT / AM-2K images with USR targets, from stage 1.
#   matbench train configs/aimnet_matting.py
# (the official stage-1 weights, aimnet_pretrained_duts.pth, work as load_from too)
_base_ = ['_base_/default_runtime.py', '_base_/datasets/composition_train.py', '_base_/datasets/aim500_val.py',
          '_base_/schedules/aim_stage2.py']
model = dict(type='AimMattor', stage='matting', network=dict(type='AimNet'),
             val_strategy=dict(type='hybrid', global_ratio=1 / 4, local_ratio=1 / 2))
load_from = 'work_dirs/aimnet_duts/epoch_100.pth'
