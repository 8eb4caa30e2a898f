# RLW (random loss weighting, Lin et al., TMLR 2022).
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='RLW', seed=0))
