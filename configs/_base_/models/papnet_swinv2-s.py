# PAP-Net on SwinV2-S with DeepLab-style (ASPP) final heads: fused encoder
# features and initial predictions, task affinities diffused by matrix
# multiplication at 1/distill_stride (memory-efficient path).
_base_ = ['./backbones/swinv2-s.py']
model = dict(
    decode_head=dict(
        type='PAPNetHead', in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        distill_stride=4, gamma=0.05, memory_efficient=True, final_head='aspp',
        norm_cfg=_base_.norm_cfg))
