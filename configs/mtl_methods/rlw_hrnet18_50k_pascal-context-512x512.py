# RLW (random loss weighting, Lin et al., TMLR 2022).
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='RLW', seed=0))
