"""PAPNetHead and task affinity propagation."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.models.decode_heads.papnet_head import PAPNetHead
from mmmtl.models.layers.affinity_propagation import TaskAffinityPropagation
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.testing import fit_steps, random_batch, tiny_model_cfg

TASKS = ['depth', 'normals', 'saliency']
IN_CHANNELS = [8, 16, 32, 64]


def _head_cfg(**kwargs):
    cfg = dict(type='PAPNetHead', tasks=TASKS, in_channels=IN_CHANNELS,
               in_index=[0, 1, 2, 3], channels=8, distill_stride=8)
    cfg.update(kwargs)
    return cfg


def _features(batch=2, h=32, w=64):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch, c, h // s, w // s, generator=g)
            for c, s in zip(IN_CHANNELS, (4, 8, 16, 32))]


def _reference(module, x, scale):
    """Straightforward PAP-Net: weighted sum of Gram matrices, F A'^T."""
    flat = {t: x[t].flatten(2) for t in module.tasks}  # (B, C, P)
    aff = {t: F.normalize(f, dim=1).transpose(1, 2) @ F.normalize(f, dim=1)
           for t, f in flat.items()}
    out = {}
    for i, t in enumerate(module.tasks):
        combined = sum(module.alpha[i, k] * aff[s]
                       for k, s in enumerate(module.tasks))
        diffused = (flat[t] @ combined.transpose(1, 2) * scale).view_as(x[t])
        out[t] = module.gamma * diffused + (1 - module.gamma) * x[t]
    return out


@pytest.mark.parametrize('memory_efficient', [False, True])
def test_propagation_matches_reference(memory_efficient):
    torch.manual_seed(0)
    module = TaskAffinityPropagation(['a', 'b'], gamma=0.3,
                                     memory_efficient=memory_efficient,
                                     chunk_size=5).double()
    with torch.no_grad():
        module.alpha.copy_(torch.tensor([[0.7, -0.2], [0.1, 1.5]]))
    x = {t: torch.randn(2, 3, 3, 4, dtype=torch.float64, requires_grad=True)
         for t in 'ab'}
    out = module(x)
    ref = _reference(module, x, 1.0 / 12)
    for t in 'ab':
        torch.testing.assert_close(out[t], ref[t], rtol=1e-9, atol=1e-9)
    g_out = torch.autograd.grad(sum(o.square().sum() for o in out.values()),
                                [module.alpha, x['a']])
    g_ref = torch.autograd.grad(sum(o.square().sum() for o in ref.values()),
                                [module.alpha, x['a']])
    for a, b in zip(g_out, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)


def test_shapes_gradients_and_any_resolution():
    head = MODELS.build(_head_cfg())
    assert isinstance(head, PAPNetHead)
    head.train()
    out = head(_features())
    assert out.preds['normals'].shape == (2, 3, 4, 8)
    assert out.feats['depth'].shape == (2, 8, 4, 8)
    assert out.feat_strides == {t: 8 for t in TASKS}
    assert set(out.deep_supervision) == {'initial'}
    loss = sum(p.mean() for p in out.preds.values()) + sum(
        p.mean() for p in out.deep_supervision['initial'].values())
    loss.backward()
    assert [n for n, p in head.named_parameters() if p.grad is None] == []
    head.eval()
    with torch.no_grad():
        out = head(_features(1, 64, 96))
    assert out.preds['saliency'].shape == (1, 1, 8, 12)
    assert not out.deep_supervision


def test_trains_in_segmentor_and_loss_decreases():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(
        tasks=TASKS, decode_head=_head_cfg(memory_efficient=True,
                                           chunk_size=9)))
    data = model.data_preprocessor(
        random_batch(n=2, h=32, w=32, tasks=TASKS), training=True)
    totals, losses = fit_steps(model, data)
    assert 'depth.loss_l1_initial' in losses
    assert totals[-1] < 0.95 * totals[0], totals
