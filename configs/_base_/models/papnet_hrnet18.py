# PAP-Net on HRNet-18: fused encoder features and initial predictions, task
# affinity matrices combined by a learnt weighted sum and diffused by matrix
# multiplication at 1/4 (the anchor-chunked, memory-efficient path).
_base_ = ['./backbones/hrnet18.py']
model = dict(
    decode_head=dict(
        type='PAPNetHead', in_channels=[18, 36, 72, 144],
        in_index=[0, 1, 2, 3], in_strides=(4, 8, 16, 32), channels=64,
        distill_stride=4, gamma=0.05, scale_by_hw=True, memory_efficient=True,
        chunk_size='auto', norm_cfg=_base_.norm_cfg))
