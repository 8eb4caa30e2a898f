# adam-poly_20k.py for PASCAL-Context (the CCR paper's setting there): 60
# epochs of 4998 images at batch 6 = 833 iterations per epoch, 49,980
# iterations ~ 50k, with a 1-epoch warm-up and validation every 10 epochs.
_base_ = ['./adam-poly_20k.py']
iters_per_epoch = 833
max_iters = 60 * iters_per_epoch
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=iters_per_epoch),
    dict(type='PolyLR', eta_min=0.0, power=0.9, by_epoch=False,
         begin=iters_per_epoch, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=10 * iters_per_epoch)
default_hooks = dict(checkpoint=dict(interval=10 * iters_per_epoch))
