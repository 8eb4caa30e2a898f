# MGDA-UB (Sener & Koltun, NeurIPS 2018): MGDA on the shared features.
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='MGDA'))
