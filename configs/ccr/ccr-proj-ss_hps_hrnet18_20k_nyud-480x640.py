# CCR paper Table 1 "+ Proj + SS": projector and hard-positive /
# semi-hard-negative pixel sampling, every task pair each iteration.
# (The last row, "+ CTS", is ccr_hps_hrnet18_20k_nyud-480x640.py.)
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks={{_base_.tasks}},
            in_channels=256,
            sharing='source_shared',
            all_pairs=True,
            ramp_up_epochs=1,
            iters_per_epoch={{_base_.iters_per_epoch}})
    ])
