# CAGrad (Liu et al., NeurIPS 2021), c = 0.4, on the shared features.
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='CAGrad', c=0.4))
