# GradNorm (Chen et al., ICML 2018), alpha = 1.5, on the last shared
# layer: the FPN's output convolutions.
_base_ = './ew_hrnet18_50k_pascal-context-512x512.py'
optim_wrapper = dict(
    method=dict(type='GradNorm', alpha=1.5),
    mode='parameter',
    shared_modules=['neck.fpn_convs'])
