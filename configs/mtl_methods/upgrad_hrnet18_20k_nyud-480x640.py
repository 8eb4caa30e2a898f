# UPGrad (Quinton & Rey, 2024, TorchJD) on the shared features.
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
optim_wrapper = dict(method=dict(type='UPGrad'))
