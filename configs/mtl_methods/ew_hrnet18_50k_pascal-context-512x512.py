# Equal weighting through MultiTaskOptimWrapper on the HRNet-18 HPS
# baseline of PASCAL-Context (model, data and schedule of
# configs/hps/hps_hrnet18_50k_pascal-context-512x512.py, built from _base_):
# the parent of this folder's PASCAL-Context configs, which change only the
# method. Not trained here.
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py',
    '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/adam-poly_50k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
val_dataloader = test_dataloader = dict(batch_size=1)
test_evaluator = dict(extra_statistics=dict(edge=[_base_.seism_edge]))
optim_wrapper = dict(
    type='MultiTaskOptimWrapper', method=dict(type='EW'),
    mode='representation')
