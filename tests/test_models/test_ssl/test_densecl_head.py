"""CompL DenseCL: dense correspondence and the mixed global/dense loss."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmmtl.models.ssl.contrastive import (dense_correspondence,
                                                gather_locations)
from mmmtl.models.ssl.densecl_head import DenseCLSSLHead  # noqa: F401
from mmmtl.testing import random_batch, tiny_model_cfg


def test_correspondence_picks_most_similar_key_location():
    # query locations: e0, e1, (0.6, 0.8); key locations: e1, -e0, e0
    q = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]).t()[None]
    k = torch.tensor([[0.0, 1.0], [-1.0, 0.0], [1.0, 0.0]]).t()[None]
    # similarities: q0 -> [0, -1, 1]; q1 -> [1, 0, 0]; q2 -> [.8, -.6, .6]
    assert dense_correspondence(q, k).tolist() == [[2, 0, 0]]
    # matching is per image: swapping the batch order swaps the result
    both = dense_correspondence(torch.cat([q, q.flip(2)]),
                                torch.cat([k, k]))
    assert both.tolist() == [[2, 0, 0], [0, 0, 2]]
    feats = torch.arange(6.).view(1, 2, 3)  # D=2 features at 3 locations
    assert gather_locations(feats, torch.tensor([[2, 0, 0]])).tolist() == [
        [[2.0, 0.0, 0.0], [5.0, 3.0, 3.0]]]


def _densecl_model(**head):
    cfg = dict(type='DenseCLSSLHead', head_task='depth', in_channels=8,
               hid_channels=8, out_channels=4, num_grid=2, bank_size=6,
               temperature=0.5, dense_weight=0.7, momentum=0.99,
               negative_bank='memory_bank')
    cfg.update(head)
    return MODELS.build(tiny_model_cfg(tasks=['depth'], ssl_tasks=[cfg]))


def _batch(ids=(1, 4)):
    torch.manual_seed(0)
    batch = random_batch(n=len(ids), tasks=['depth'])
    for sample, idx in zip(batch['data_samples'], ids):
        sample.ssl_views = torch.randint(0, 255, (2, 3, 32, 32),
                                         dtype=torch.uint8)
        sample.set_metainfo(dict(ssl_index=idx))
    return batch


def _nce(pos, negs, t):
    logits = [pos / t] + [n / t for n in negs]
    return math.log(sum(math.exp(v) for v in logits)) - logits[0]


def _reference(model, head, views, bank, dense_bank, ids):
    """Loops over images and grid cells; key encoder == online encoder."""
    neck = head.projector
    with torch.no_grad():
        def run(x):
            f = model.decode_head.forward(model.backbone(x)).feats['depth']
            g = neck.mlp(f.mean(dim=(2, 3)))
            pooled = F.adaptive_avg_pool2d(f, 2)  # num_grid = 2
            dense = neck.mlp2(pooled).flatten(2)  # B, D, 4
            return (F.normalize(g, dim=1), F.normalize(dense, dim=1),
                    F.normalize(dense.mean(dim=2), dim=1),
                    F.normalize(pooled.flatten(2), dim=1))
        gq, dq, _, iq = run(views[:, 0])
        gk, dk, pk, ik = run(views[:, 1])
    t = head.temperature
    single, dense = [], []
    for b in range(views.shape[0]):
        negs = [j for j in range(bank.shape[1]) if j != ids[b]]
        single.append(_nce(float(gq[b] @ gk[b]),
                           [float(gq[b] @ bank[:, j]) for j in negs], t))
        for s in range(4):
            sims = [float(iq[b, :, s] @ ik[b, :, j]) for j in range(4)]
            best = max(range(4), key=lambda j: sims[j])
            dense.append(_nce(float(dq[b, :, s] @ dk[b, :, best]),
                              [float(dq[b, :, s] @ dense_bank[:, j])
                               for j in negs], t))
    return (sum(single) / len(single), sum(dense) / len(dense), gk, pk)


def test_densecl_loss_matches_loop_reference():
    model = _densecl_model()
    head = model.ssl_tasks['densecl']
    data = model.data_preprocessor(_batch(ids=(1, 4)), training=True)
    bank, dense_bank = head.bank.keys.clone(), head.dense_bank.keys.clone()
    losses = model.loss(data['inputs'], data['data_samples'])
    views = torch.stack([s.ssl_views for s in data['data_samples']])
    single, dense, gk, pk = _reference(model, head, views, bank, dense_bank,
                                       [1, 4])
    lam = head.loss_weight
    assert lam == 0.2
    assert losses['ssl.densecl.loss_single'].item() == pytest.approx(
        lam * 0.3 * single, rel=1e-4)
    assert losses['ssl.densecl.loss_dense'].item() == pytest.approx(
        lam * 0.7 * dense, rel=1e-4)
    assert {'ssl.densecl.acc_single', 'ssl.densecl.acc_dense'} <= set(losses)
    # both banks were written at the images' slots
    assert torch.allclose(head.bank.keys[:, [1, 4]], gk.t(), atol=1e-5)
    assert torch.allclose(head.dense_bank.keys[:, [1, 4]], pk.t(), atol=1e-5)
    total = (losses['ssl.densecl.loss_single'] +
             losses['ssl.densecl.loss_dense'])
    total.backward()
    assert head.projector.mlp2[0].weight.grad is not None


def test_densecl_queue_variant_and_argument_errors():
    model = _densecl_model(negative_bank='queue', bank_size=4)
    head = model.ssl_tasks['densecl']
    data = model.data_preprocessor(_batch(), training=True)
    model.loss(data['inputs'], data['data_samples'])
    assert int(head.bank.ptr) == 2 and int(head.dense_bank.ptr) == 2
    with pytest.raises(ValueError, match='dense_weight'):
        _densecl_model(dense_weight=1.5)
    with pytest.raises(ValueError, match='head_task'):
        _densecl_model(head_task='semseg')
    with pytest.raises(ValueError, match='in_channels=16'):
        m = _densecl_model(in_channels=16, hid_channels=16)
        d = m.data_preprocessor(_batch(), training=True)
        m.loss(d['inputs'], d['data_samples'])
