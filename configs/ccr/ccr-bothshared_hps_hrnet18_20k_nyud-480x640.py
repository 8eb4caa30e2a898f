# CCR paper Table 3 (projector designs): sharing='both_shared'. The default,
# 'source_shared' (the paper's best), is ccr_hps_hrnet18_20k_nyud-480x640.py;
# semi-hard sampling and task-pair selection are on, as in every row.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(auxiliary_losses=[dict(_base_.ccr_loss, sharing='both_shared')])
