# CCR paper Table 1 "+ Proj": CCR-Basic with the (source-shared) projector.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[
    dict(_base_.ccr_loss, sharing='source_shared', positive_mining='random',
         negative_mining='random', all_pairs=True)
])
