# CompL on NYUD-v2: depth and semantic segmentation (both labelled) jointly
# trained with DenseCL. The DeepLab-v3+ is shared and the tasks branch at
# its 256-channel output (one classifier each); DenseCL reads that same
# output (head_task='depth' names it; with the shared decoder every task's
# features are the same tensor).
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
tasks = ['depth', 'semseg']
model = dict(decode_head=dict(tasks=tasks, num_classes=_base_.num_classes))
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
