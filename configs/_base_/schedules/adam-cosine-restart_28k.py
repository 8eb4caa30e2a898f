# adam-cosine_28k.py with warm restarts: multi-scale models converge early
# on Cityscapes, so the CTAL paper anneals them with 4 cosine periods of 7k
# iterations (MTI-Net, CTAL-MS).
_base_ = ['./adam-cosine_28k.py']
param_scheduler = [
    dict(type='CosineRestartLR', periods=[7000, 7000, 7000, 7000],
         restart_weights=[1.0, 1.0, 1.0, 1.0], eta_min=0.0, by_epoch=False,
         begin=0, end=28000)
]
