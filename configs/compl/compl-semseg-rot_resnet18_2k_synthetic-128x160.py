# CompL: semantic segmentation + rotation prediction (lambda 0.05, as
# compl-depth-rot).
_base_ = ['./compl-semseg-densecl_resnet18_2k_synthetic-128x160.py']
train_dataloader = dict(dataset=dict(aux_pipeline=_base_.rot_pipeline))
model = dict(ssl_tasks=[dict(_base_.rot, head_task='semseg', in_channels=64)])
