# Equal weighting through MultiTaskOptimWrapper on the HRNet-18 HPS
# baseline of NYUD-v2 (model, data and schedule of
# configs/hps/hps_hrnet18_20k_nyud-480x640.py, built from _base_):
# the parent of this folder's NYUD-v2 configs, which change only the
# method. Not trained here.
_base_ = [
    '../_base_/models/hps-fpn_hrnet18.py', '../_base_/datasets/nyud.py',
    '../_base_/schedules/adam-poly_20k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
val_dataloader = test_dataloader = dict(batch_size=1)
optim_wrapper = dict(
    type='MultiTaskOptimWrapper', method=dict(type='EW'),
    mode='representation')
