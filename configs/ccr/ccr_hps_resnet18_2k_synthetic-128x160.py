# CCR (cross-task contrastive regularisation) on the hard-parameter-sharing
# baseline, synthetic dataset (five tasks, ResNet-18 from scratch): the
# baseline's model, data and schedule plus the `auxiliary_losses` entry; CCR
# is training-only, inference is unchanged.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_2k.py', '../_base_/default_runtime.py'
]
model = dict(
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes),
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks=_base_.tasks,
            in_channels=64,  # HPSHead `channels`
            sharing='source_shared',
            sampling_ratio=0.01,  # 32x40 features -> 13 anchors / image
            topk=128,
            num_negatives=16,
            margin=0.2,
            loss_weight=1.0,
            ramp_up_iters=200,  # 10% of the 2k-iteration schedule
            seed=0)
    ])
