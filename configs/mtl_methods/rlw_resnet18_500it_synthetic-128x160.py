# Random loss weighting (Lin et al., TMLR 2022): loss-based.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='RLW', seed=0))
