# FAMO (Liu et al., NeurIPS 2023): loss-based, one backward pass.
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='FAMO'))
