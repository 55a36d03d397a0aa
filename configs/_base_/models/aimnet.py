# AimNet (IJCAI-21). Official weights: see "Pretrained Models" in the AIM README.
model = dict(type='AimNet')
