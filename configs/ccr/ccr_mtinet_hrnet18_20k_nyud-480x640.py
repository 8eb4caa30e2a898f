# CCR on MTI-Net, NYUD-v2 (CCR paper Table 2): the head's final
# (aggregated, 1/4-scale) task features are regularised. Same data,
# schedule and CCR settings as ccr_hps_hrnet18_20k_nyud-480x640.py.
_base_ = ['./ccr_hps_hrnet18_20k_nyud-480x640.py']
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='MTINetHead',
        tasks={{_base_.tasks}},
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        channels=256,
        in_strides=(4, 8, 16, 32),
        num_classes=dict(semseg=40)),
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks={{_base_.tasks}},
            in_channels=256,  # MTI-Net final task features
            ramp_up_epochs=1,
            iters_per_epoch={{_base_.iters_per_epoch}})
    ])
