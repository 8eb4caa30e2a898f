# PAP-Net on ResNet-18: fused encoder features and initial predictions, task
# affinity matrices combined by a learnt weighted sum and diffused by matrix
# multiplication. The affinity at 1/8 (16 x 20 = 320 positions of a 128x160
# crop) keeps the CPU demo fast.
_base_ = ['./backbones/resnet18.py']
model = dict(
    decode_head=dict(
        type='PAPNetHead', in_channels=[64, 128, 256, 512],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        distill_stride=8, gamma=0.05, scale_by_hw=True, memory_efficient=False,
        norm_cfg=_base_.norm_cfg))
