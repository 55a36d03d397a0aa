# Closed-form matting (Levin et al.) fed with the dataset's trimap: a weight-free baseline.
#   matbench eval --config configs/closedform_embedded.py
_base_ = ['_base_/datasets/embedded.py']
model = dict(type='ClosedForm')
