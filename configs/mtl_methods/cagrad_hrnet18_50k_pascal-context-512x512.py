# CAGrad (Liu et al., NeurIPS 2021), c = 0.4, on the shared features.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='CAGrad', c=0.4))
