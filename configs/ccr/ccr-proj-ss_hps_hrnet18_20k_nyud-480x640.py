# CCR paper Table 1 "+ Proj + SS": projector and hard-positive /
# semi-hard-negative pixel sampling, every task pair each iteration.
# (The last row, "+ CTS", is ccr_hps_hrnet18_20k_nyud-480x640.py.)
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[
    dict(_base_.ccr_loss, sharing='source_shared', all_pairs=True)
])
