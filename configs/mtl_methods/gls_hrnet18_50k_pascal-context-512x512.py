# GLS (geometric loss strategy, Chennupati et al., CVPRW 2019).
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='GLS'))
