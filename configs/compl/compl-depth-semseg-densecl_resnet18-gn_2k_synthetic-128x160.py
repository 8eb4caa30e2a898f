# compl-depth-semseg-densecl with GroupNorm instead of BatchNorm in the
# backbone and the decoders, as CompL does against intra-batch information
# leakage in contrastive learning; from scratch (BN ImageNet checkpoints do
# not fit GN layers, see README.md "GroupNorm").
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
tasks = ['depth', 'semseg']
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
train_dataloader = dict(dataset=dict(dataset=dict(tasks=tasks)))
val_dataloader = test_dataloader = dict(dataset=dict(tasks=tasks))
model = dict(
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(
        tasks=tasks, num_classes=_base_.num_classes,
        norm_cfg=norm_cfg),
    # DenseCL on the shared encoder's last stage (compl-depth-semseg-densecl)
    ssl_tasks=[
        dict(_base_.densecl, in_index=-1, in_channels=512, hid_channels=512,
             num_grid=None, bank_size=_base_.num_aux_images)
    ])
