# GradVac (Wang et al., ICLR 2021) on the shared features.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='GradVac', beta=0.01, seed=0))
