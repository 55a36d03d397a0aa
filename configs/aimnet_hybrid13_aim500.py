# AimNet, hybrid with local 1/3 and global 1/4 (the README's "Hybrid (1/3 & 1/4)" rows).
_base_ = ['aimnet_hybrid_aim500.py']
strategy = dict(local_ratio=1 / 3)
