# CCR paper Table 3 (projector designs): sharing='unshared'.
# The default, sharing='source_shared' (the paper's best), is
# ccr_hps_hrnet18_20k_nyud-480x640.py. Semi-hard sampling and task-pair
# selection are on, as in every row of Table 3.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks={{_base_.tasks}},
            in_channels=256,
            sharing='unshared',
            ramp_up_epochs=1,
            iters_per_epoch={{_base_.iters_per_epoch}})
    ])
