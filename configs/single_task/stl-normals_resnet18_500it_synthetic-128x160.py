# Single-task baseline for normals: the demo's encoder, decoder and 500-iteration
# schedule with one task. Its result is the normals reference of the demo's delta_m.
_base_ = ['../hps/hps_resnet18_500it_synthetic-128x160.py']
tasks = ['normals']
model = dict(decode_head=dict(tasks=tasks, num_classes=None))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='MultiTaskMetric', tasks=tasks)
test_evaluator = val_evaluator
