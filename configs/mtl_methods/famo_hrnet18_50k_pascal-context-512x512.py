# FAMO (Liu et al., NeurIPS 2023): loss-based, one backward pass.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='FAMO'))
