# CCR paper Table 1 "CCR-Basic": no projector (the task features are only
# L2-normalised), uniformly random positive and negatives (no hard /
# semi-hard pixel sampling), every task pair each iteration (no
# contrastive task-pair selection).
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[
    dict(_base_.ccr_loss, use_projector=False, positive_mining='random',
         negative_mining='random', all_pairs=True)
])
