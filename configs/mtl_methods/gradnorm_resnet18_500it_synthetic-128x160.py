# GradNorm (Chen et al., ICML 2018): gradient norms measured on the last
# shared layer (ResNet-18's layer4), as in the paper; the whole network
# follows the gradient of the GradNorm-weighted sum of the task losses.
_base_ = './ew_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(
    method=dict(type='GradNorm', alpha=1.5),
    mode='parameter',
    shared_modules=['backbone.layer4'])
