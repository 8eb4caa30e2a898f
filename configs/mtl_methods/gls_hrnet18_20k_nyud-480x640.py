# GLS (geometric loss strategy, Chennupati et al., CVPRW 2019).
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='GLS'))
