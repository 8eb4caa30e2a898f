# The CTAL paper's MTL (hard parameter sharing) baseline.
_base_ = [
    '../_base_/models/hps_swinv2-s.py', '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/adam-cosine_44k.py', '../_base_/default_runtime.py'
]
model = dict(decode_head=dict(
    tasks=_base_.tasks, num_classes=_base_.num_classes))
train_dataloader = dict(batch_size=8)  # the paper's batch
