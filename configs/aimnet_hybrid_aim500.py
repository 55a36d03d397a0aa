# AimNet, hybrid 1/2 & 1/4 (the official test.py default; README row "update, 1/2 & 1/4"):
#   matbench eval --config configs/aimnet_hybrid_aim500.py --data-root AIM-500 \
#       --checkpoint aimnet_pretrained_matting.pth
_base_ = ['_base_/datasets/aim500.py', '_base_/models/aimnet.py', '_base_/strategies/hybrid.py']
