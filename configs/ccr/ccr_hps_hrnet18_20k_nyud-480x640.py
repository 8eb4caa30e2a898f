# CCR (Yang et al., AAAI 2023) on the multi-task baseline, NYUD-v2 (semseg,
# depth, normals), paper Table 1 last row: HRNet-18 + shared FPN + one
# decoder per task, Adam lr 2e-4 with a 1-epoch warm-up, batch 4 (the
# baseline's model, data and schedule, all from configs/_base_/); CCR with
# m=0.2, gamma=0.01, k=128, C_neg=16 and lambda=1.0, linearly ramped up over
# the first epoch ("the first several epochs"). CCR is training-only.
# Single GPU: batch 4. On 2 GPUs set train_dataloader.batch_size=2.
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py', '../_base_/datasets/nyud.py',
    '../_base_/schedules/adam-poly_20k.py', '../_base_/default_runtime.py'
]
# The CCR settings all NYUD-v2 configs of this folder share.
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
