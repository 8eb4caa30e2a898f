# IMTL-G (Liu et al., ICLR 2021) on the shared features.
# The demo HPS model and schedule (configs/hps/) with one multi-task
# optimisation method; see docs/en/user_guides/loss_weighting.md.
_base_ = '../hps/hps_resnet18_500it_synthetic-128x160.py'
optim_wrapper = dict(
    type='MultiTaskOptimWrapper',
    method=dict(type='IMTLG'),
    mode='representation')
