"""CompL MoCo v2: InfoNCE, queue, memory bank and momentum update."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ContrastiveHead
from mmseg.registry import MODELS

from mmmtl.models.ssl.contrastive import info_nce_logits
from mmmtl.models.ssl.moco_head import MoCoSSLHead  # noqa: F401
from mmmtl.models.ssl.momentum import MomentumEncoder
from mmmtl.models.ssl.negative_bank import (MemoryBank, NegativeQueue,
                                                  build_negative_bank)
from mmmtl.testing import random_batch, tiny_model_cfg


def _ce(temperature):
    return ContrastiveHead(loss=dict(type='CrossEntropyLoss'),
                           temperature=temperature)


def test_info_nce_equals_hand_computed_value():
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[0.6, 0.8]])
    negatives = torch.tensor([[0.0, -1.0], [1.0, 0.0]])  # z1=(0,1) z2=(-1,0)
    pos, neg = info_nce_logits(q, k, negatives)
    assert pos.tolist() == [[pytest.approx(0.6)]]
    assert neg.tolist() == [[0.0, -1.0]]
    # -log(e^{0.6/0.5} / (e^{1.2} + e^{0} + e^{-2})) = log(1 + e^-1.2 + e^-3.2)
    loss = _ce(0.5).loss(pos, neg)
    assert loss.item() == pytest.approx(0.294126, abs=1e-5)
    assert loss.item() == pytest.approx(
        math.log(1 + math.exp(-1.2) + math.exp(-3.2)), rel=1e-6)
    # masking z2 removes it from the denominator
    mask = torch.tensor([[False, True]])
    pos, neg = info_nce_logits(q, k, negatives, mask)
    assert _ce(0.5).loss(pos, neg).item() == pytest.approx(
        math.log(1 + math.exp(-1.2)), rel=1e-6)


def test_queue_enqueues_dequeues_and_wraps():
    queue = NegativeQueue(dim=2, size=5)
    assert queue.keys.shape == (2, 5)
    assert torch.allclose(queue.keys.norm(dim=0), torch.ones(5))
    batch1 = torch.arange(6.).view(3, 2)  # keys (0,1) (2,3) (4,5)
    queue.update(batch1)
    assert int(queue.ptr) == 3
    assert torch.equal(queue.keys[:, :3], batch1.t())
    batch2 = 10 + torch.arange(6.).view(3, 2)
    old_col3 = queue.keys[:, 3].clone()
    queue.update(batch2)
    # slots 3, 4 then wrap to 0; pointer 6 % 5 = 1
    assert int(queue.ptr) == 1
    assert torch.equal(queue.keys[:, 3], batch2[0])
    assert torch.equal(queue.keys[:, 4], batch2[1])
    assert torch.equal(queue.keys[:, 0], batch2[2])
    assert torch.equal(queue.keys[:, 1:3], batch1[1:].t())
    assert not torch.equal(queue.keys[:, 3], old_col3)
    # a batch longer than the queue keeps its last `size` keys
    big = 100 + torch.arange(14.).view(7, 2)
    queue.update(big)
    assert int(queue.ptr) == 1
    assert torch.equal(queue.keys[:, [1, 2, 3, 4, 0]], big[2:].t())


def test_memory_bank_update_and_own_slot_mask():
    bank = MemoryBank(dim=2, size=4)
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    bank.update(keys, torch.tensor([2, 0]))
    assert torch.equal(bank.keys[:, 2], keys[0])
    assert torch.equal(bank.keys[:, 0], keys[1])
    mask = bank.own_slot_mask(torch.tensor([1, 3]))
    assert mask.tolist() == [[False, True, False, False],
                             [False, False, False, True]]
    with pytest.raises(IndexError, match='bank_size'):
        bank.update(keys, torch.tensor([0, 4]))
    with pytest.raises(ValueError, match='negative_bank'):
        build_negative_bank('fifo', 2, 4)


def test_momentum_update_formula():
    online = nn.Linear(2, 2)
    enc = MomentumEncoder({'lin': online}, momentum=0.9)
    assert not any(p.requires_grad for p in enc.parameters())
    with torch.no_grad():
        online.weight.fill_(1.0)
        online.bias.fill_(2.0)
    enc.update({'lin': online})  # first update copies
    assert enc.steps == 1
    assert torch.equal(enc.module['lin'].weight, online.weight)
    with torch.no_grad():
        online.weight.fill_(3.0)
        online.bias.fill_(-1.0)
    enc.update({'lin': online})
    # theta_k = 0.9 * theta_k + 0.1 * theta_q
    assert torch.allclose(enc.module['lin'].weight,
                          torch.full((2, 2), 0.9 * 1 + 0.1 * 3))
    assert torch.allclose(enc.module['lin'].bias,
                          torch.full((2, ), 0.9 * 2 + 0.1 * -1))
    with pytest.raises(ValueError, match='momentum'):
        MomentumEncoder({'lin': online}, momentum=1.0)


def _moco_model(**head):
    cfg = dict(type='MoCoSSLHead', in_channels=64, bank_size=8,
               temperature=0.2, momentum=0.99)
    cfg.update(head)
    return MODELS.build(tiny_model_cfg(tasks=['depth'], ssl_tasks=[cfg]))


def _batch(n=2, ids=(3, 5)):
    torch.manual_seed(0)
    batch = random_batch(n=n, tasks=['depth'])
    for sample, idx in zip(batch['data_samples'], ids):
        sample.ssl_views = torch.randint(0, 255, (2, 3, 32, 32),
                                         dtype=torch.uint8)
        sample.set_metainfo(dict(ssl_index=idx))
    return batch


def _reference_moco(model, head, data, negatives, mask=None):
    """InfoNCE written out, with the key encoder equal to the online one
    (true at the first step: the first momentum update copies)."""
    views = torch.stack([s.ssl_views for s in data['data_samples']])
    with torch.no_grad():
        def embed(x):
            f = model.backbone(x)[-1].mean(dim=(2, 3))
            mlp = head.projector.mlp
            return F.normalize(mlp[2](F.relu(mlp[0](f))), dim=1)
        q, k = embed(views[:, 0]), embed(views[:, 1])
    total = 0.0
    for i in range(len(q)):
        logits = [float(q[i] @ k[i])] + [
            float(q[i] @ negatives[:, j]) for j in range(negatives.shape[1])
            if mask is None or not mask[i][j]
        ]
        logits = [v / head.temperature for v in logits]
        total += math.log(sum(math.exp(v) for v in logits)) - logits[0]
    return total / len(q), k


def test_moco_queue_loss_matches_reference_and_enqueues_keys():
    model = _moco_model()
    head = model.ssl_tasks['moco']
    assert head.loss_weight == 0.2 and head.momentum_encoder.steps == 0
    data = model.data_preprocessor(_batch(), training=True)
    negatives = head.bank.keys.clone()
    losses = model.loss(data['inputs'], data['data_samples'])
    ref, keys = _reference_moco(model, head, data, negatives)
    assert losses['ssl.moco.loss_contrast'].item() == pytest.approx(
        0.2 * ref, rel=1e-4)
    assert 'ssl.moco.acc_contrast' in losses
    assert head.momentum_encoder.steps == 1
    assert int(head.bank.ptr) == 2
    assert torch.allclose(head.bank.keys[:, :2], keys.t(), atol=1e-5)
    losses['ssl.moco.loss_contrast'].backward()
    assert head.projector.mlp[0].weight.grad is not None
    assert all(p.grad is None for p in head.momentum_encoder.parameters())


def test_moco_memory_bank_masks_own_slot_and_writes_at_index():
    model = _moco_model(negative_bank='memory_bank')
    head = model.ssl_tasks['moco']
    data = model.data_preprocessor(_batch(ids=(3, 5)), training=True)
    negatives = head.bank.keys.clone()
    losses = model.loss(data['inputs'], data['data_samples'])
    mask = [[j == 3 for j in range(8)], [j == 5 for j in range(8)]]
    ref, keys = _reference_moco(model, head, data, negatives, mask)
    assert losses['ssl.moco.loss_contrast'].item() == pytest.approx(
        0.2 * ref, rel=1e-4)
    unmasked, _ = _reference_moco(model, head, data, negatives)
    assert abs(ref - unmasked) > 1e-4  # the mask matters
    assert torch.allclose(head.bank.keys[:, [3, 5]], keys.t(), atol=1e-5)
    untouched = [0, 1, 2, 4, 6, 7]
    assert torch.equal(head.bank.keys[:, untouched], negatives[:, untouched])


def test_moco_state_is_checkpointed():
    model = _moco_model()
    data = model.data_preprocessor(_batch(), training=True)
    model.loss(data['inputs'], data['data_samples'])
    state = model.state_dict()
    assert 'ssl_tasks.moco.bank.keys' in state
    assert 'ssl_tasks.moco.bank.ptr' in state
    assert 'ssl_tasks.moco.momentum_encoder.ema.steps' in state
    assert any(k.startswith('ssl_tasks.moco.momentum_encoder.ema.module.'
                            'backbone.') for k in state)
    assert any(k.startswith('ssl_tasks.moco.momentum_encoder.ema.module.'
                            'projector.') for k in state)
    fresh = _moco_model()
    fresh.load_state_dict(state)
    head = fresh.ssl_tasks['moco']
    assert int(head.bank.ptr) == 2 and head.momentum_encoder.steps == 1
    assert torch.equal(head.bank.keys, state['ssl_tasks.moco.bank.keys'])


def test_moco_needs_two_views():
    model = _moco_model()
    batch = _batch()
    for s in batch['data_samples']:
        s.ssl_views = s.ssl_views[:1]
    data = model.data_preprocessor(batch, training=True)
    with pytest.raises(ValueError, match='two views'):
        model.loss(data['inputs'], data['data_samples'])
