# The same baseline on AIM-500:
#   matbench eval --config configs/closedform_aim500.py --data-root /path/to/AIM-500
_base_ = ['_base_/datasets/aim500.py']
model = dict(type='ClosedForm')
