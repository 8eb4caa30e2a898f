# Hard-parameter-sharing multi-task baseline on the synthetic dataset
# (five tasks, ResNet-18 from scratch); `make demo` trains the 500-iteration
# version, hps_resnet18_500it_synthetic-128x160.py.
_base_ = [
    '../_base_/models/hps_resnet18.py', '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_2k.py'
]
val_evaluator = dict(
    type='MultiTaskMetric',
    tasks=['semseg', 'depth', 'normals', 'edge', 'saliency'])
test_evaluator = val_evaluator
