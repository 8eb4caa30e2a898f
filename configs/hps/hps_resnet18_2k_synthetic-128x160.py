# Hard-parameter sharing on the synthetic dataset (five tasks, ResNet-18 from
# scratch); `make demo` trains the 500-iteration version.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/adamw-poly_2k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
