# CCR (cross-task contrastive regularisation) on the hard-parameter-sharing
# baseline, synthetic dataset (five tasks, ResNet-18 from scratch).
# The only change to ../hps/hps_resnet18_2k_synthetic-128x160.py is the
# `auxiliary_losses` entry: CCR is training-only, inference is unchanged.
_base_ = ['../hps/hps_resnet18_2k_synthetic-128x160.py']
tasks = ['semseg', 'depth', 'normals', 'edge', 'saliency']
model = dict(
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks=tasks,
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
