# IMTL-G (Liu et al., ICLR 2021) on the shared features.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(method=dict(type='IMTLG'))
