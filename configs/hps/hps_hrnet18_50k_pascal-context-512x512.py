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
# Final numbers also report the edge ODS-F / OIS-F / AP of the papers:
# SEISM as ATRC / InvPT run it (protocol='seism': 8-bit map, NMS, '> t',
# thinning, exact one-to-one matching), 99 thresholds, maxDist 0.0075. It
# runs on the CPU, so it is off during training-time validation.
test_evaluator = dict(extra_statistics=dict(edge=[
    dict(type='BoundaryFStatistic', protocol='seism', thresholds=99,
         max_dist=0.0075)
]))
