# Geometric loss strategy (Chennupati et al., CVPRW 2019): loss-based.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='GLS'))
