# DB-MTL (Lin et al., 2023): log losses and a moving average of every
# task's gradient of the shared parameters (parameter mode only).
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(
    method=dict(type='DBMTL', beta=0.9, beta_sigma=0.0), mode='parameter')
