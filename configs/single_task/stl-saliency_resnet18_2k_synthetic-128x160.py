# Single-task baseline for saliency on the synthetic dataset: the same encoder,
# decoder and schedule as the multi-task demo, one task. Its results are the
# single-task references of the demo's delta_m.
_base_ = ['../hps/hps_resnet18_2k_synthetic-128x160.py']
tasks = ['saliency']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
