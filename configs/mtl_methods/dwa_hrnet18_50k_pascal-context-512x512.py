# Dynamic Weight Average (Liu et al., CVPR 2019) over one-epoch windows;
# the hook's weights multiply the losses, equal weighting in the wrapper.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
custom_hooks = [
    dict(type='DWAHook', temperature=2.0, by_epoch=False,
         interval=_base_.iters_per_epoch)
]
