# CompL on NYUD-v2: depth jointly trained with rotation prediction (Rot,
# lambda 0.05): one auxiliary view per image, rotated by 0/90/180/270
# degrees; global average pooling of the decoder output, one FC layer,
# 4-way cross-entropy.
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
train_dataloader = dict(dataset=dict(aux_pipeline=_base_.rot_pipeline))
model = dict(ssl_tasks=[dict(_base_.rot, head_task='depth')])
