# FAMO (Liu et al., NeurIPS 2023): loss-based, logits updated after each step.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='FAMO'))
