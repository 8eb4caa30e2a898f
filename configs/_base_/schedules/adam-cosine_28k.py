# The CTAL paper's optimisation on Cityscapes: Adam (weight decay 1e-4) with
# lr 5e-4, cosine annealing over 28k iterations (75 epochs of 2975 images at
# batch 8 = 372 iterations x 75 ~= 28k), validation every 2.8k.
_base_ = ['./adam-cosine_20k.py']
max_iters = 28000
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=2800)
default_hooks = dict(checkpoint=dict(interval=2800))
