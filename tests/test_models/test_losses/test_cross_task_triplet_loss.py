"""CCR: pair masks, mining, triplet values, schedule and model integration."""
import glob
import math
import os.path as osp
import uuid

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from mmmtl.models.losses.cross_task_triplet_loss import CrossTaskTripletLoss
from mmmtl.models.losses.triplet_mining import (downsample_gt, mine_triplets,
                                                pair_masks, sample_anchors,
                                                triplet_loss_terms)
from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.structures import TASKS, HeadOutputs, stack_gt, valid_mask
from mmmtl.testing import TINY_TASKS, random_batch, random_sample, \
    tiny_model_cfg
from mmmtl.testing.ccr_reference import reference_pair_loss


@pytest.fixture
def hub():
    """A fresh current message hub (no 'iter' info until a test sets it)."""
    return MessageHub.get_instance(f'ccr-test-{uuid.uuid4().hex}')


def as_pixels(x):
    """(B, C, h, w) -> (B, L, C)."""
    return x.flatten(2).transpose(1, 2)


def masks_of(labels_1d, spec, anchor, topk=128):
    """Pair masks of one anchor on a (1, L) or (C, L) label row."""
    lab = torch.as_tensor(labels_1d)
    if lab.dim() == 1:
        lab = lab[None]
    gt = lab.view(1, lab.shape[0], 1, lab.shape[1])
    valid = valid_mask(gt, spec)[:, 0].flatten(1)
    pos, neg = pair_masks(as_pixels(gt), valid, torch.tensor([[anchor]]),
                          torch.tensor([[True]]), spec, topk)
    return (set(pos[0, 0].nonzero()[:, 0].tolist()),
            set(neg[0, 0].nonzero()[:, 0].tolist()))


# --------------------------------------------------------------------------
# positive / negative definition
# --------------------------------------------------------------------------
def test_pair_masks_discrete_and_binary():
    labels = [0, 0, 1, 255, 1, 2]
    assert masks_of(labels, TASKS['semseg'], 0) == ({1}, {2, 4, 5})
    assert masks_of(labels, TASKS['semseg'], 2) == ({4}, {0, 1, 5})
    # binary tasks use the same rule; 255 is never in a set
    assert masks_of([1, 0, 255, 1, 0], TASKS['edge'], 3) == ({0}, {1, 4})


def test_pair_masks_depth_topk_l1():
    depth = [1.0, 1.1, 3.0, 0.0, 1.3, 5.0, 2.0]  # index 3 invalid
    spec = TASKS['depth']
    # |d - 1|: 1:0.1 2:2.0 4:0.3 5:4.0 6:1.0; 5 others -> k <= 2
    assert masks_of(depth, spec, 0, topk=2) == ({1, 4}, {2, 5})
    assert masks_of(depth, spec, 0, topk=3) == ({1, 4}, {2, 5})
    assert masks_of(depth, spec, 0, topk=1) == ({1}, {5})
    # constant depth: nothing is farther than the positives
    pos, neg = masks_of([2.0] * 5, spec, 0, topk=2)
    assert len(pos) == 2 and 0 not in pos and neg == set()


def test_pair_masks_break_label_ties_by_pixel_index():
    # |d - 1| = 0.5 for pixels 1, 2, 3, 5 and 2.0 for 4, 6: the nearest 2
    # are the lowest-index ties {1, 2}; the farthest 2 are {4, 6}.
    depth = [1.0, 1.5, 0.5, 1.5, 3.0, 0.5, 3.0]
    spec = TASKS['depth']
    assert masks_of(depth, spec, 0, topk=2) == ({1, 2}, {4, 6})
    # Farthest set with ties: |d - 1| = 2.0 for 3, 4, 5: the highest
    # indices {4, 5} (the last k of a stable ascending sort).
    depth = [1.0, 1.1, 1.2, 3.0, 3.0, 3.0, 1.3]
    assert masks_of(depth, spec, 0, topk=2) == ({1, 2}, {4, 5})
    # constant depth: the lowest-index pixels are the positives
    assert masks_of([2.0] * 5, spec, 0, topk=2) == ({1, 2}, set())


@pytest.mark.parametrize('seed', [0, 1])
def test_quantised_depth_matches_per_anchor_loop(seed):
    """Millimetre-quantised depth has many tied label distances; the loss
    must equal the loop reference's (stable sort) exactly."""
    g = torch.Generator().manual_seed(seed)
    b, h, w, topk, k_neg = 2, 8, 9, 6, 4
    spec = TASKS['depth']
    gt = (torch.randint(1, 6, (b, 1, h, w), generator=g) *
          0.001).double() + 1.0
    proj = F.normalize(torch.randn(b, 8, h, w, generator=g,
                                   dtype=torch.float64), dim=1)
    valid = valid_mask(gt, spec)[:, 0].flatten(1)
    anchors, ok = sample_anchors(valid, 12, generator=g)
    feats = as_pixels(proj)
    pos, neg = pair_masks(as_pixels(gt), valid, anchors, ok, spec, topk)
    m = mine_triplets(feats, anchors, pos, neg, k_neg)
    total, count = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2)
    ref = reference_pair_loss(proj, gt, spec, anchors, ok, topk, k_neg, 0.2)
    assert (total / count).item() == pytest.approx(ref.item(), rel=1e-12)


def test_triplet_distance_l2_option():
    feats, anchors, ok, m = mined(3)
    squared, _ = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2)
    plain, _ = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2,
                                  distance='l2')
    # squared distances 0.5 (positive), 0.6, 0.7, 0.9 (negatives): plain
    # L2 hinges [sqrt(.5) - sqrt(x) + .2]+ averaged over the 3 negatives.
    expected = sum(max(math.sqrt(0.5) - math.sqrt(x) + 0.2, 0.0)
                   for x in (0.6, 0.7, 0.9)) / 3
    assert squared.item() == pytest.approx(0.1 / 3)
    assert plain.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match='distance'):
        triplet_loss_terms(feats, anchors, ok, *m, distance='cosine')


def test_pair_masks_normals_by_angle():
    degrees = [0, 10, 90, 170, 45]
    normals = torch.tensor([[math.sin(math.radians(d)), 0.0,
                             math.cos(math.radians(d))] for d in degrees]).t()
    normals = torch.cat([normals, torch.zeros(3, 1)], dim=1)  # 5 invalid
    assert masks_of(normals, TASKS['normals'], 0, topk=2) == ({1, 4}, {2, 3})
    assert masks_of(normals, TASKS['normals'], 3, topk=1) == ({2}, {0})


def test_downsample_gt_is_nearest_at_cell_centres():
    gt = torch.arange(16).view(1, 1, 4, 4)
    # 2x2 cells: nearest-exact picks row/col 1 and 3 (cell centres 0.5+)
    assert downsample_gt(gt, (2, 2)).flatten().tolist() == [5, 7, 13, 15]
    depth = torch.tensor([[0.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    assert downsample_gt(depth, (2, 2)) is depth


# --------------------------------------------------------------------------
# mining and the triplet value
# --------------------------------------------------------------------------
def line_features(distances):
    """Unit 2-D features whose squared L2 distance to pixel 0 is given."""
    angles = [math.acos(1 - d / 2) for d in distances]
    return torch.tensor([[math.cos(a), math.sin(a)] for a in angles],
                        dtype=torch.float64)[None]  # (1, L, 2)


# pixel:      0    1    2    3    4    5    6    7    8
DISTS = [0.0, 0.1, 0.5, 0.2, 0.6, 0.9, 0.7, 1.5, 0.3]
LABELS = [0, 0, 0, 1, 1, 1, 1, 1, 1]


def mined(num_negatives):
    feats = line_features(DISTS)
    labels = torch.tensor(LABELS).view(1, -1, 1)
    valid = torch.ones(1, len(LABELS), dtype=torch.bool)
    anchors, ok = torch.tensor([[0]]), torch.tensor([[True]])
    pos, neg = pair_masks(labels, valid, anchors, ok, TASKS['semseg'])
    return feats, anchors, ok, mine_triplets(feats, anchors, pos, neg,
                                             num_negatives)


def test_hardest_positive_and_semi_hard_negatives():
    _, _, _, (pos_idx, pos_ok, neg_idx, neg_ok) = mined(3)
    assert pos_idx.item() == 2 and pos_ok.item()  # D=0.5 > 0.1
    # negatives farther than 0.5, closest first: 0.6, 0.7, 0.9
    assert neg_idx[0, 0].tolist() == [4, 6, 5]
    assert neg_ok.all()


def test_semi_hard_fallback_order_and_invalid_slots():
    _, _, _, (_, _, neg_idx, neg_ok) = mined(6)
    # 4 semi-hard, then the negatives closer than the positive, those
    # nearest the boundary first: 0.3 (8) then 0.2 (3)
    assert neg_idx[0, 0].tolist() == [4, 6, 5, 7, 8, 3]
    assert neg_ok.all()
    _, _, _, (_, _, neg_idx, neg_ok) = mined(8)
    assert neg_idx[0, 0, :6].tolist() == [4, 6, 5, 7, 8, 3]
    assert neg_ok[0, 0].tolist() == [True] * 6 + [False] * 2


def test_triplet_value_by_hand():
    feats, anchors, ok, m = mined(3)
    total, count = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2)
    # [0.5 - 0.6 + 0.2]+ = 0.1, [0.5 - 0.7 + 0.2]+ = 0, [0.5 - 0.9 + .2]+ = 0
    assert count.item() == 1
    assert total.item() == pytest.approx(0.1 / 3)
    feats, anchors, ok, m = mined(8)  # fallback; 2 empty slots ignored
    total, _ = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2)
    # extra: 1.5 -> 0, 0.3 -> 0.4, 0.2 -> 0.5
    assert total.item() == pytest.approx((0.1 + 0.4 + 0.5) / 6)


def random_gt(task, b, h, w, g):
    if task == 'semseg':
        gt = torch.randint(0, 3, (b, 1, h, w), generator=g)
        gt[torch.rand(b, 1, h, w, generator=g) < 0.2] = 255
    elif task == 'edge':
        gt = torch.randint(0, 2, (b, 1, h, w), generator=g)
        gt[torch.rand(b, 1, h, w, generator=g) < 0.2] = 255
    elif task == 'depth':
        gt = torch.rand(b, 1, h, w, generator=g, dtype=torch.float64) + 0.5
        gt[torch.rand(b, 1, h, w, generator=g) < 0.2] = 0.0
    else:
        gt = F.normalize(torch.randn(b, 3, h, w, generator=g,
                                     dtype=torch.float64), dim=1)
        gt = gt * (torch.rand(b, 1, h, w, generator=g) > 0.2)
    return gt


@pytest.mark.parametrize('task', ['semseg', 'edge', 'depth', 'normals'])
def test_vectorised_matches_per_anchor_loop(task):
    g = torch.Generator().manual_seed(7)
    b, h, w, topk, k_neg = 2, 6, 7, 5, 4
    spec = TASKS[task]
    gt = random_gt(task, b, h, w, g)
    proj = F.normalize(torch.randn(b, 8, h, w, generator=g,
                                   dtype=torch.float64), dim=1)
    proj.requires_grad_(True)
    valid = valid_mask(gt, spec)[:, 0].flatten(1)
    anchors, ok = sample_anchors(valid, 9, generator=g)
    feats = as_pixels(proj)
    pos, neg = pair_masks(as_pixels(gt), valid, anchors, ok, spec, topk)
    m = mine_triplets(feats, anchors, pos, neg, k_neg)
    total, count = triplet_loss_terms(feats, anchors, ok, *m, margin=0.2)
    fast = total / count
    ref = reference_pair_loss(proj, gt, spec, anchors, ok, topk, k_neg, 0.2)
    assert count.item() > 10
    assert fast.item() == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
    g_fast, = torch.autograd.grad(fast, proj)
    g_ref, = torch.autograd.grad(ref, proj)
    assert torch.allclose(g_fast, g_ref, rtol=1e-7, atol=1e-10)


def test_ignore_pixels_are_never_chosen():
    g = torch.Generator().manual_seed(3)
    spec = TASKS['semseg']
    gt = random_gt('semseg', 2, 8, 10, g)
    gt[:, :, :4] = 255  # top half ignored
    valid = (gt != 255)[:, 0].flatten(1)
    anchors, ok = sample_anchors(valid, 30, generator=g)
    feats = F.normalize(torch.randn(2, 80, 4, generator=g), dim=2)
    pos, neg = pair_masks(as_pixels(gt), valid, anchors, ok, spec)
    pos_idx, pos_ok, neg_idx, neg_ok = mine_triplets(feats, anchors, pos,
                                                     neg, 16)
    for i in range(2):
        assert valid[i, anchors[i][ok[i]]].all()
        assert valid[i, pos_idx[i][pos_ok[i]]].all()
        assert valid[i, neg_idx[i][neg_ok[i]]].all()
        assert not (pos[i] | neg[i])[:, ~valid[i]].any()
    # anchors fall back to 'not ok' when an image has too few valid pixels
    few = torch.zeros(1, 80, dtype=torch.bool)
    few[0, [5, 9]] = True
    anchors, ok = sample_anchors(few, 4, generator=g)
    assert ok.sum().item() == 2 and set(anchors[ok].tolist()) == {5, 9}


def test_anchor_sampler_is_deterministic_under_a_seed():
    valid = torch.rand(2, 200, generator=torch.Generator().manual_seed(0)) > .3
    a1, _ = sample_anchors(valid, 20, torch.Generator().manual_seed(5))
    a2, _ = sample_anchors(valid, 20, torch.Generator().manual_seed(5))
    a3, _ = sample_anchors(valid, 20, torch.Generator().manual_seed(6))
    assert torch.equal(a1, a2) and not torch.equal(a1, a3)
    assert all(len(set(r.tolist())) == 20 for r in a1)  # no duplicates


# --------------------------------------------------------------------------
# the module: projectors, pairs, schedule
# --------------------------------------------------------------------------
def projector_params(tasks, sharing, **kw):
    loss = CrossTaskTripletLoss(tasks=tasks, in_channels=8, sharing=sharing,
                                hidden_channels=8, out_channels=4, **kw)
    return sum(p.numel() for p in loss.parameters()), len(loss.projectors)


def test_parameter_count_of_each_sharing_mode():
    per = (8 * 8 + 8) + 8 * 4 + 2 * 4  # conv+bias, conv, BN affine = 112
    three = ['semseg', 'depth', 'normals']
    assert projector_params(three, 'source_shared') == (3 * per, 3)
    assert projector_params(three, 'target_shared') == (3 * per, 3)
    assert projector_params(three, 'both_shared') == (per, 1)
    assert projector_params(three, 'unshared') == (6 * per, 6)
    four = three + ['edge']
    kw = dict(source_tasks=['semseg', 'depth'])
    assert projector_params(four, 'source_shared', **kw) == (4 * per, 4)
    assert projector_params(four, 'target_shared', **kw) == (2 * per, 2)
    assert projector_params(four, 'unshared', **kw) == (6 * per, 6)
    assert projector_params(three, 'source_shared', use_projector=False) \
        == (0, 0)


def test_bad_config_values_are_named():
    with pytest.raises(ValueError, match="sharing must be one of"):
        CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                             sharing='shared')
    with pytest.raises(ValueError, match='negative_mining'):
        CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                             negative_mining='hard')
    with pytest.raises(ValueError, match='no source task'):
        CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                             source_tasks=['semseg'])
    with pytest.raises(ValueError, match='iters_per_epoch'):
        CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                             ramp_up_epochs=1)
    with pytest.raises(ValueError, match='different feature channels'):
        CrossTaskTripletLoss(tasks=['semseg', 'depth'],
                             in_channels=dict(semseg=8, depth=16),
                             sharing='both_shared')


def test_pair_selection_is_a_function_of_seed_and_iteration():
    tasks = ['semseg', 'depth', 'normals', 'edge']
    rank0 = CrossTaskTripletLoss(tasks=tasks, in_channels=8, seed=3)
    rank1 = CrossTaskTripletLoss(tasks=tasks, in_channels=8, seed=3)
    other = CrossTaskTripletLoss(tasks=tasks, in_channels=8, seed=4)
    seq0 = [rank0.select_pairs(i) for i in range(40)]
    assert seq0 == [rank1.select_pairs(i) for i in range(40)]
    assert seq0 != [other.select_pairs(i) for i in range(40)]
    for pairs in seq0:
        assert [t for t, _ in pairs] == tasks
        assert all(s != t and s in tasks for t, s in pairs)
    sources = {s for pairs in seq0 for t, s in pairs if t == 'semseg'}
    assert sources == {'depth', 'normals', 'edge'}
    all_pairs = CrossTaskTripletLoss(tasks=tasks, in_channels=8,
                                     all_pairs=True).select_pairs(0)
    assert len(all_pairs) == 12 and len(set(all_pairs)) == 12


def test_ramp_up_weight():
    loss = CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                                loss_weight=2.0, ramp_up_iters=100)
    assert [loss.weight_at(i) for i in (0, 25, 100, 500)] == \
        [0.0, 0.5, 2.0, 2.0]
    by_epoch = CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8,
                                    ramp_up_epochs=2, iters_per_epoch=50)
    assert by_epoch.weight_at(25) == 0.25
    assert CrossTaskTripletLoss(tasks=['semseg', 'depth'],
                                in_channels=8).weight_at(0) == 1.0


def head_outputs(tasks, b=2, c=8, h=8, w=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = {t: torch.randn(b, c, h, w, generator=g, requires_grad=True)
             for t in tasks}
    return HeadOutputs(preds={}, feats=feats,
                       feat_strides={t: 4 for t in tasks})


def samples(tasks, b=2, h=32, w=40):
    return [random_sample(h, w, seed=i, tasks=tasks) for i in range(b)]


def test_iteration_from_message_hub_and_fallback_counter(hub):
    tasks = ['semseg', 'depth', 'normals']
    loss = CrossTaskTripletLoss(tasks=tasks, in_channels=8,
                                ramp_up_iters=10, sampling_ratio=0.1)
    out, data = head_outputs(tasks), samples(tasks)
    # outside a runner: the internal counter of training calls
    assert loss.current_iter() == 0
    first = loss(out, data)
    assert first['loss_ccr'].item() == 0.0  # ramp-up weight 0 at iter 0
    assert first['ccr_lambda'].item() == 0.0
    loss(out, data)
    assert loss.current_iter() == 2
    loss.eval()
    loss(out, data)
    assert loss.current_iter() == 2  # eval calls do not count
    # under a runner RuntimeInfoHook sets 'iter' (also after a resume)
    hub.update_info('iter', 5)
    assert loss.current_iter() == 5
    res = loss(out, data)
    assert res['ccr_lambda'].item() == pytest.approx(0.5)
    unweighted = sum(res[f'ccr_{t}'] for t in tasks)
    assert res['loss_ccr'].item() == pytest.approx(0.5 * unweighted.item())
    assert unweighted.item() > 0


def test_runtime_info_hook_publishes_iter():
    from mmengine.hooks import RuntimeInfoHook

    class FakeOptimWrapper:

        def get_lr(self):
            return dict(lr=[0.1])

        def get_momentum(self):
            return dict(momentum=[0.9])

    class FakeRunner:
        iter = 17
        optim_wrapper = FakeOptimWrapper()
        message_hub = MessageHub.get_instance(f'ccr-{uuid.uuid4().hex}')

    RuntimeInfoHook().before_train_iter(FakeRunner(), 0)
    assert FakeRunner.message_hub.get_info('iter') == 17
    loss = CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8)
    assert loss.current_iter() == 17


def test_gradients_reach_only_target_features_and_projector(hub):
    hub.update_info('iter', 0)
    tasks = ['semseg', 'depth', 'normals']
    loss = CrossTaskTripletLoss(tasks=tasks, in_channels=8,
                                target_tasks=['semseg'],
                                source_tasks=['depth', 'normals'],
                                sampling_ratio=0.2)
    out = head_outputs(tasks)
    res = loss(out, samples(tasks))
    assert set(res) == {'loss_ccr', 'ccr_semseg', 'ccr_lambda'}
    res['loss_ccr'].backward()
    assert out.feats['semseg'].grad.abs().sum() > 0
    assert out.feats['depth'].grad is None
    assert out.feats['normals'].grad is None
    assert loss.projectors['semseg'][0].weight.grad.abs().sum() > 0


def test_idle_projectors_get_zero_gradients(hub):
    hub.update_info('iter', 3)
    tasks = ['semseg', 'depth', 'normals']
    loss = CrossTaskTripletLoss(tasks=tasks, in_channels=8,
                                sharing='unshared', sampling_ratio=0.2)
    out = head_outputs(tasks)
    loss(out, samples(tasks))['loss_ccr'].backward()
    used = {loss.projector_key(t, s) for t, s in loss.select_pairs(3)}
    for key, proj in loss.projectors.items():
        grad = proj[0].weight.grad
        assert grad is not None  # every parameter takes part (DDP)
        assert (grad.abs().sum() > 0) == (key in used)


def test_missing_source_gt_and_wrong_stride(hub):
    hub.update_info('iter', 0)
    loss = CrossTaskTripletLoss(tasks=['semseg', 'depth'], in_channels=8)
    out = head_outputs(['semseg', 'depth'])
    only_semseg = samples(['semseg'])
    res = loss(out, only_semseg)  # depth gt absent: its pair gives 0
    assert res['ccr_semseg'].item() == 0.0 and res['ccr_depth'].item() > 0
    out.feat_strides = dict(semseg=8, depth=8)
    with pytest.raises(ValueError, match='wrong stride'):
        loss(out, samples(['semseg', 'depth']))
    with pytest.raises(KeyError, match='feats'):
        loss(HeadOutputs(preds={}), only_semseg)


def test_module_equals_reference_on_the_same_draw(hub):
    """The module's R_ts equals the loop reference with the same anchors."""
    hub.update_info('iter', 0)
    tasks = ['semseg', 'depth']
    loss = CrossTaskTripletLoss(tasks=tasks, in_channels=8, topk=6,
                                num_negatives=5, sampling_ratio=0.1,
                                images_per_chunk=1).double()
    out = head_outputs(tasks)
    out.feats = {t: f.double() for t, f in out.feats.items()}
    data = samples(tasks)
    torch.manual_seed(11)
    res = loss(out, data)
    expected = 0.0
    torch.manual_seed(11)  # replay the anchor draws in the same order
    for target, source in loss.select_pairs(0):
        proj = loss.project(out.feats[target], target, source)
        gt = downsample_gt(stack_gt(data, TASKS[source]), (8, 10))
        valid = valid_mask(gt, TASKS[source])[:, 0].flatten(1)
        anchors, ok = zip(*[sample_anchors(valid[i:i + 1], 8)
                            for i in range(2)])
        expected += reference_pair_loss(proj, gt, TASKS[source],
                                        torch.cat(anchors), torch.cat(ok),
                                        6, 5, 0.2).item()
    total = res['ccr_semseg'] + res['ccr_depth']
    assert total.item() == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------
# inside the segmentor
# --------------------------------------------------------------------------
CCR = dict(type='CrossTaskTripletLoss', tasks=list(TINY_TASKS),
           in_channels=8, out_channels=8, sampling_ratio=0.05)


def test_trains_inside_multitask_encoder_decoder(hub):
    hub.update_info('iter', 0)
    model = MODELS.build(tiny_model_cfg(auxiliary_losses=[CCR]))
    data = model.data_preprocessor(random_batch(), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['aux.loss_ccr'].item() > 0
    assert {f'aux.ccr_{t}' for t in TINY_TASKS} <= set(losses)
    total, log_vars = model.parse_losses(losses)
    total.backward()
    ccr = model.auxiliary_losses[0]
    for task in TINY_TASKS:
        assert ccr.projectors[task][0].weight.grad.abs().sum() > 0
    assert 'aux.ccr_lambda' in log_vars


def test_zero_inference_cost():
    torch.manual_seed(0)
    with_ccr = MODELS.build(tiny_model_cfg(auxiliary_losses=[CCR])).eval()
    plain = MODELS.build(tiny_model_cfg()).eval()
    missing, unexpected = plain.load_state_dict(with_ccr.state_dict(),
                                                strict=False)
    assert not missing
    assert unexpected and all(k.startswith('auxiliary_losses.')
                              for k in unexpected)
    batch = plain.data_preprocessor(random_batch(), False)

    def run(model):
        called = []
        hooks = [m.register_forward_hook(
            lambda mod, i, o, called=called: called.append(mod))
            for m in model.modules()]
        with torch.no_grad():
            res = model.predict(batch['inputs'],
                                [s.clone() for s in batch['data_samples']])
        for h in hooks:
            h.remove()
        params = {id(p): p.numel() for m in called
                  for p in m.parameters(recurse=False)}
        return res, sum(params.values()), called

    res_ccr, n_ccr, called = run(with_ccr)
    res_plain, n_plain, _ = run(plain)
    assert n_ccr == n_plain
    ccr_modules = {id(m) for m in with_ccr.auxiliary_losses.modules()}
    assert called and not any(id(m) in ccr_modules for m in called)
    for a, b in zip(res_ccr, res_plain):
        for task in TINY_TASKS:
            pa, pb = a.get_pred(task).data, b.get_pred(task).data
            assert torch.equal(pa, pb)

    # multiply-accumulates of every conv / linear run by predict(): equal
    assert conv_macs(with_ccr, batch) == conv_macs(plain, batch) > 0


def conv_macs(model, batch):
    """MACs of the Conv2d / Linear layers executed by ``predict``."""
    total = []

    def hook(mod, inputs, out):
        if isinstance(mod, torch.nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total.append(out.numel() * k * mod.in_channels // mod.groups)
        elif isinstance(mod, torch.nn.Linear):
            total.append(out.numel() * mod.in_features)

    hooks = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.predict(batch['inputs'][:1],
                      [s.clone() for s in batch['data_samples'][:1]])
    for h in hooks:
        h.remove()
    return sum(total)


# --------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------
CCR_CONFIGS = sorted(glob.glob(osp.join(
    osp.dirname(__file__), '..', '..', '..', 'configs', 'ccr', '*.py')))


@pytest.mark.parametrize('path', CCR_CONFIGS, ids=osp.basename)
def test_ccr_configs_build(path):
    """Every CCR config parses; its CCR module builds and matches the head
    (the synthetic one builds the whole model)."""
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(path)
    except FileNotFoundError as err:  # a dataset base config not there yet
        pytest.skip(str(err))
    head = cfg.model.decode_head
    aux_cfgs = cfg.model.get('auxiliary_losses') or []
    name = osp.basename(path)
    assert len(aux_cfgs) == (1 if name.startswith('ccr') else 0)
    for aux_cfg in aux_cfgs:
        aux = MODELS.build(aux_cfg)
        assert isinstance(aux, CrossTaskTripletLoss)
        assert set(aux.tasks) <= set(head.tasks)
        assert set(aux.in_channels.values()) == {head.channels}
    if 'synthetic' in name:
        model = MODELS.build(cfg.model)
        assert len(model.auxiliary_losses) == 1


@pytest.mark.parametrize('module,head_type', [
    ('mmmtl.models.decode_heads.padnet_head', 'PADNetHead'),
    ('mmmtl.models.decode_heads.mtinet_head', 'MTINetHead'),
])
def test_works_with_other_heads_filling_feats(hub, module, head_type):
    pytest.importorskip(module)  # registers the head
    hub.update_info('iter', 1)
    tasks = ['semseg', 'depth', 'normals']
    head = dict(type=head_type, tasks=tasks, in_channels=[8, 16, 32, 64],
                in_index=[0, 1, 2, 3], channels=8, in_strides=(4, 8, 16, 32),
                num_classes=dict(semseg=4))
    ccr = dict(CCR, tasks=tasks)
    model = MODELS.build(tiny_model_cfg(tasks=tasks, decode_head=head,
                                        auxiliary_losses=[ccr]))
    data = model.data_preprocessor(random_batch(tasks=tasks), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert losses['aux.loss_ccr'].item() > 0
    model.parse_losses(losses)[0].backward()
    for task in tasks:
        grad = model.auxiliary_losses[0].projectors[task][0].weight.grad
        assert grad.abs().sum() > 0
