# The `make demo` schedule: 500 iterations of batch 8 (4 epochs of the
# 1000 synthetic training images), about 8 minutes on 2 CPU cores.
_base_ = ['./adamw-poly_2k.py']
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=50, end=500,
         by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=500, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500))
