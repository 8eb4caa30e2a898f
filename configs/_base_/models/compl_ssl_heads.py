# CompL's self-supervised auxiliary heads (Kanakis et al., WACV 2023) on the
# 256-channel DeepLab-v3+ decoder output, with the authors' released
# settings (their VISSL configs): MoCo v2 and DenseCL with a memory bank of
# one slot per training image (own slot masked), temperature 0.4, momentum
# 0.999, DenseCL dense-loss mix 0.7 on an 8x8 grid, lambda 0.2; rotation
# prediction with lambda 0.05. A config picks one into model.ssl_tasks and
# names the decoder it reads (head_task) and the bank size (bank_size, its
# training-set size).
moco = dict(
    type='MoCoSSLHead',
    name='moco',
    loss_weight=0.2,
    in_channels=256,
    hid_channels=256,
    out_channels=128,
    temperature=0.4,
    momentum=0.999,
    negative_bank='memory_bank')
# DenseCL: MoCo's global branch plus the dense one.
densecl = dict(
    moco, type='DenseCLSSLHead', name='densecl', num_grid=8, dense_weight=0.7)
rot = dict(type='RotationSSLHead', name='rot', loss_weight=0.05,
           in_channels=256)
