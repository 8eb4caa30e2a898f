# CompL on NYUD-v2: depth jointly trained with MoCo v2 (lambda 0.2): MLP
# projector 256 -> 256 -> 128 on the pooled decoder output, momentum key
# encoder (0.999), InfoNCE. Negatives and temperature as the authors'
# released code (memory bank of the 795 training images, own slot masked,
# temperature 0.4); for MoCo's FIFO queue with the paper's temperature use
# negative_bank='queue', bank_size=65536 (or fewer), temperature=0.2.
_base_ = ['./compl-depth-densecl_deeplabv3plus-r26-gn_20k_nyud-425x560.py']
model = dict(ssl_tasks=[
    dict(_base_.moco, head_task='depth', bank_size=_base_.num_aux_images)
])
