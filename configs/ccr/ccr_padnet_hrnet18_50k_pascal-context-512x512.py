# CCR on PAD-Net, PASCAL-Context (5 tasks): the head's final task features
# are regularised. Same data, schedule and CCR settings as
# ccr_hps_hrnet18_50k_pascal-context-512x512.py; PAD-Net works on the HRNet
# outputs directly (no FPN).
_base_ = ['./ccr_hps_hrnet18_50k_pascal-context-512x512.py']
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='PADNetHead',
        tasks={{_base_.tasks}},
        in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3],
        channels=256,
        in_strides=(4, 8, 16, 32),
        num_classes=dict(semseg=21, human_parts=7)),
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks={{_base_.tasks}},
            in_channels=256,  # PAD-Net final task features
            ramp_up_epochs=1,
            iters_per_epoch={{_base_.iters_per_epoch}})
    ])
