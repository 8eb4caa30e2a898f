# The CCR paper's "MT Baseline" on NYUD-v2 (HRNet-18 + shared FPN, one decoder
# per task): the baseline of the NYUD-v2 CCR/PAD-Net/MTI-Net configs. Single
# GPU: batch 4 (on 2 GPUs set train_dataloader.batch_size=2).
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py', '../_base_/datasets/nyud.py',
    '../_base_/schedules/adam-poly_20k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
val_dataloader = test_dataloader = dict(batch_size=1)
