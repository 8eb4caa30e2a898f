# MGDA-UB (Sener and Koltun, NeurIPS 2018): MGDA on the shared features.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(method=dict(type='MGDA'))
