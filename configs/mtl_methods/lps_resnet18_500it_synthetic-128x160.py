# LPS (MT-CP, the paper preset) over 50-iteration windows; the hook's
# weights multiply the losses, equal weighting in the wrapper.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
custom_hooks = [dict(type='LPSHook', by_epoch=False, interval=50)]
