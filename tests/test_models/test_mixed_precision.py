"""Every head and auxiliary loss under ``torch.autocast``.

The same model (same weights, same random draws) runs ``model.loss`` once in
float32 and once under autocast, then backward. Stated tolerances, for the
tiny models here (an 8-channel ResNet-18, 2 images of 32x40; bfloat16 keeps
8 significant bits, 2^-9 relative rounding per operation):

* every loss term within ``LOSS_RTOL`` = 5 % relative (or ``LOSS_ATOL`` =
  0.02 absolute for terms near zero) of float32;
* the gradient of the total loss, flattened over all parameters, finite,
  within ``GRAD_RTOL`` = 20 % relative L2 distance of float32 and with a
  cosine similarity above ``GRAD_MIN_COS`` = 0.99 (measured: 2-12 %).

Batch normalisation uses its running statistics (``model.eval()``; the loss
is computed all the same): the tiny backbone's deepest maps hold 4 values per
channel and batch, whose batch statistics are ill-conditioned in any half
precision (gradients then differ by about 100 % between float32 and
bfloat16 for plain HPS), which would hide what this test is about.

The reductions, norms, affinity sums and InfoNCE logits run in float32
(:mod:`mmmtl.utils.precision`); without that the losses' bfloat16 pixel
sums alone miss these bounds. CPU autocast with bfloat16 runs everywhere;
float16 autocast runs where CUDA is available (``-m cuda``).
"""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import random_batch, tiny_model_cfg
from mmmtl.utils.precision import tf32_disabled

LOSS_RTOL, LOSS_ATOL, GRAD_RTOL, GRAD_MIN_COS = 0.05, 0.02, 0.20, 0.99

IN = dict(in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3])
TASKS3 = ['semseg', 'depth', 'normals']
NUM_CLASSES = dict(semseg=4)

HEADS = {
    'hps': None,  # tiny_model_cfg's default HPSHead
    'padnet': dict(type='PADNetHead', tasks=TASKS3, channels=8,
                   num_classes=NUM_CLASSES, **IN),
    'papnet_dense': dict(type='PAPNetHead', tasks=TASKS3, channels=8,
                         num_classes=NUM_CLASSES, **IN),
    'papnet_chunked': dict(type='PAPNetHead', tasks=TASKS3, channels=8,
                           num_classes=NUM_CLASSES, memory_efficient=True,
                           chunk_size='auto', **IN),
    'mtinet': dict(type='MTINetHead', tasks=TASKS3, channels=8,
                   num_classes=NUM_CLASSES, **IN),
    'ctal_ss_dense': dict(type='CTALHead', tasks=TASKS3, channels=8,
                          crop_size=(32, 40), distill_stride=8,
                          num_classes=NUM_CLASSES, **IN),
    'ctal_ss_chunked': dict(type='CTALHead', tasks=TASKS3, channels=8,
                            crop_size=(32, 40), distill_stride=8,
                            num_classes=NUM_CLASSES, memory_efficient=True,
                            chunk_size=7, **IN),
    'ctal_ms_chunked': dict(type='CTALHead', tasks=TASKS3, channels=8,
                            crop_size=(32, 40), distill_stride=8,
                            multi_scale=True, num_classes=NUM_CLASSES,
                            memory_efficient=True, **IN),
    'mtcp': dict(type='MTCPHead', tasks=TASKS3, channels=16, window_size=4,
                 num_heads=(2, 2, 2), num_classes=NUM_CLASSES,
                 cbam_cfg=dict(reduction=4), **IN),
    'deeplabv3plus': dict(type='DeepLabV3PlusHead', tasks=['semseg', 'depth'],
                          in_channels=(8, 64), in_index=(0, 3), channels=16,
                          c1_channels=8, num_classes=NUM_CLASSES,
                          norm_cfg=dict(type='GN', num_groups=4,
                                        requires_grad=True),
                          dropout_ratio=0.0),
}

CCR = dict(type='CrossTaskTripletLoss', tasks=TASKS3, in_channels=8,
           out_channels=8, sampling_ratio=0.05)
SSL = {
    'rotation': dict(type='RotationSSLHead', name='rot', in_channels=64),
    'moco': dict(type='MoCoSSLHead', in_channels=64, bank_size=8,
                 temperature=0.2, momentum=0.99),
    'densecl': dict(type='DenseCLSSLHead', name='densecl', head_task='depth',
                    in_channels=8, hid_channels=8, out_channels=8,
                    num_grid=2, negative_bank='memory_bank', bank_size=4,
                    temperature=0.4),
}


def _model_cfg(name):
    if name in HEADS:
        head = HEADS[name]
        tasks = head['tasks'] if head else TASKS3
        kwargs = dict(decode_head=head) if head else {}
        return tiny_model_cfg(tasks=tasks, **kwargs), tasks, False
    if name == 'ccr':
        return tiny_model_cfg(tasks=TASKS3, auxiliary_losses=[CCR]), TASKS3, \
            False
    return tiny_model_cfg(tasks=['depth', 'semseg'],
                          ssl_tasks=[SSL[name]]), ['depth', 'semseg'], True


def _batch(tasks, ssl):
    torch.manual_seed(0)
    batch = random_batch(n=2, h=32, w=40, tasks=tasks)
    if ssl:
        for i, sample in enumerate(batch['data_samples']):
            view = torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
            sample.ssl_views = torch.stack([view, view.flip(2)])
            sample.ssl_labels = torch.tensor([i % 4, (i + 1) % 4])
            sample.set_metainfo(dict(ssl_index=i))
    return batch


def _run(model, data, device, dtype):
    """Losses (float) and the flat gradient of one training step."""
    torch.manual_seed(1)  # same anchors / negatives in both runs
    model.zero_grad(set_to_none=True)
    if dtype is None:
        losses = model.loss(data['inputs'], data['data_samples'])
    else:
        with torch.autocast(device, dtype=dtype):
            losses = model.loss(data['inputs'], data['data_samples'])
    total, _ = model.parse_losses(losses)
    # float16: a fixed loss scale, as AmpOptimWrapper's GradScaler applies,
    # keeps small gradients above float16's underflow
    scale = 1024.0 if dtype == torch.float16 else 1.0
    (total * scale).backward()
    grad = torch.cat([p.grad.flatten().float() / scale
                      for p in model.parameters() if p.grad is not None])
    return {k: v.item() for k, v in losses.items() if 'loss' in k}, grad


def _compare(name, device, dtype):
    MessageHub.get_current_instance().update_info('iter', 0)
    cfg, tasks, ssl = _model_cfg(name)
    torch.manual_seed(0)
    model = MODELS.build(cfg).to(device).eval()
    twin = copy.deepcopy(model)  # same weights, buffers, banks
    data = model.data_preprocessor(_batch(tasks, ssl), training=True)
    with tf32_disabled():
        ref_losses, ref_grad = _run(model, data, device, None)
    amp_losses, amp_grad = _run(twin, data, device, dtype)
    assert set(amp_losses) == set(ref_losses)
    for key, ref in ref_losses.items():
        got = amp_losses[key]
        assert abs(got - ref) <= max(LOSS_ATOL, LOSS_RTOL * abs(ref)), \
            (name, key, got, ref)
    assert torch.isfinite(amp_grad).all(), name
    rel = ((amp_grad - ref_grad).norm() / ref_grad.norm()).item()
    cos = torch.nn.functional.cosine_similarity(amp_grad, ref_grad,
                                                dim=0).item()
    assert rel < GRAD_RTOL and cos > GRAD_MIN_COS, (name, rel, cos)


NAMES = list(HEADS) + ['ccr'] + list(SSL)


@pytest.mark.parametrize('name', NAMES)
def test_cpu_autocast_bfloat16(name):
    _compare(name, 'cpu', torch.bfloat16)


@pytest.mark.cuda
@pytest.mark.parametrize('name', NAMES)
def test_cuda_autocast_float16(name):
    _compare(name, 'cuda', torch.float16)
