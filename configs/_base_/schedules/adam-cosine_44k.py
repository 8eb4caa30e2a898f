# The CTAL paper's transformer optimisation on PASCAL-Context: Adam (weight
# decay 1e-4) with lr 2e-5, cosine annealing over 44k iterations (70 epochs
# of 4998 images at batch 8 = 625 iterations x 70 ~= 44k), validation every
# 4.4k.
_base_ = ['./adam-cosine_20k.py']
max_iters = 44000
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=4400)
default_hooks = dict(checkpoint=dict(interval=4400))
