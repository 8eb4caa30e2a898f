# LPS (MT-CP, the paper preset) over one-epoch windows; the hook's
# weights multiply the losses, equal weighting in the wrapper.
_base_ = './ew_hrnet18_20k_nyud-480x640.py'
custom_hooks = [
    dict(type='LPSHook', by_epoch=False, interval=_base_.iters_per_epoch)
]
