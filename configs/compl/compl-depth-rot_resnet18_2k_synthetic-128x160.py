# CompL: depth + rotation prediction on the synthetic dataset (lambda 0.05).
# One square auxiliary view per image, rotated by 0/90/180/270 degrees in the
# auxiliary pipeline (RandomRotate90 stores the label).
_base_ = ['./compl-depth-densecl_resnet18_2k_synthetic-128x160.py']
train_dataloader = dict(dataset=dict(aux_pipeline=_base_.rot_pipeline))
model = dict(ssl_tasks=[dict(_base_.rot, head_task='depth', in_channels=64)])
