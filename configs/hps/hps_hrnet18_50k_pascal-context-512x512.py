# The CCR paper's "MT Baseline" on PASCAL-Context (HRNet-18 + shared FPN, one
# decoder per task). Single GPU: batch 6 (on 6 GPUs set
# train_dataloader.batch_size=1).
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py',
    '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/adam-poly_50k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
val_dataloader = test_dataloader = dict(batch_size=1)
# Final numbers also report the papers' SEISM edge ODS-F / OIS-F / AP (off
# during training-time validation: see the dataset base).
test_evaluator = dict(extra_statistics=dict(edge=[_base_.seism_edge]))
