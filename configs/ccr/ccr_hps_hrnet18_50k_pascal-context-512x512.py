# CCR on the multi-task baseline, PASCAL-Context (semseg, human parts,
# saliency, normals, edge), as in the CCR paper: HRNet-18 (ImageNet-
# pretrained), batch 6 (6 GPUs x 1), Adam lr 2e-4 / weight decay 1e-4 /
# beta1 0.9, 1-epoch linear warm-up, CCR m=0.2, gamma=0.01, k=128,
# C_neg=16, lambda=1.0 ramped up over the first epoch. The paper gives no
# epoch count; we use 60 epochs (4998 images / batch 6 = 833 iterations per
# epoch, 49,980 iterations ~ 50k). Decoder: HPSHead on a shared FPN, as in
# ccr_hps_hrnet18_20k_nyud-480x640.py.
#
# Everything but the auxiliary loss comes from the multi-task baseline
# configs/hps/hps_hrnet18_50k_pascal-context-512x512.py.
#
# Single GPU: batch 6. On 6 GPUs set train_dataloader.batch_size=1.
_base_ = ['../hps/hps_hrnet18_50k_pascal-context-512x512.py']
model = dict(
    auxiliary_losses=[
        dict(
            type='CrossTaskTripletLoss',
            tasks={{_base_.tasks}},
            in_channels=256,
            sharing='source_shared',
            sampling_ratio=0.01,
            topk=128,
            num_negatives=16,
            margin=0.2,
            loss_weight=1.0,
            # "linearly ramped up in the first several epochs"
            ramp_up_epochs=1,
            iters_per_epoch={{_base_.iters_per_epoch}},
            seed=0)
    ],
)
