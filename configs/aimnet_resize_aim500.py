# AimNet, one pass at 1/4 (the official test.py RESIZE choice).
_base_ = ['_base_/datasets/aim500.py', '_base_/models/aimnet.py', '_base_/strategies/resize.py']
