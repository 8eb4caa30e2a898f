# Nash-MTL (Navon et al., ICML 2022) on the shared features.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='NashMTL'))
