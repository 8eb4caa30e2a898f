# CCR on the multi-task baseline, PASCAL-Context (semseg, human parts,
# saliency, normals, edge): HRNet-18 + shared FPN, batch 6, Adam lr 2e-4,
# 1-epoch warm-up, 60 epochs (the baseline's model, data and schedule);
# CCR settings as ccr_hps_hrnet18_20k_nyud-480x640.py.
# Single GPU: batch 6. On 6 GPUs set train_dataloader.batch_size=1.
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py',
    '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/adam-poly_50k.py', '../_base_/default_runtime.py'
]
# The CCR settings all PASCAL-Context configs of this folder share.
ccr_loss = dict(
    type='CrossTaskTripletLoss', tasks=_base_.tasks, in_channels=256,
    ramp_up_epochs=1, iters_per_epoch=_base_.iters_per_epoch)
model = dict(
    decode_head=dict(tasks=_base_.tasks, num_classes=_base_.num_classes),
    auxiliary_losses=[
        dict(ccr_loss, sharing='source_shared', sampling_ratio=0.01, topk=128,
             num_negatives=16, margin=0.2, loss_weight=1.0, seed=0)
    ])
val_dataloader = test_dataloader = dict(batch_size=1)
# SEISM edge ODS-F / OIS-F / AP at test time, as the baseline.
test_evaluator = dict(extra_statistics=dict(edge=[_base_.seism_edge]))
