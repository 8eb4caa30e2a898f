# MGDA-UB (Sener & Koltun, NeurIPS 2018): MGDA on the shared features.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='MGDA'))
