"""Per-task statistics of MultiTaskMetric against hand-computed values."""
import math

import pytest
import torch

from mmmtl.evaluation.functional import (
    SALIENCY_PRESETS, ConfusionStatistic, DepthStatistic, EdgeLossStatistic,
    NormalsStatistic, SaliencyStatistic, TaskStatistic, build_task_statistic,
    confusion_matrix, delta_m, histogram_median, iou_per_class,
    make_thresholds,
    register_task_statistic, relative_gain)


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


# ---------------------------------------------------------------- semseg
SEG_GT = t([[0, 1, 2], [2, 255, 1]], torch.long)
SEG_PRED = t([[0, 2, 2], [1, 0, 1]], torch.long)


def test_confusion_matrix_rows_are_ground_truth():
    cm = confusion_matrix(SEG_PRED, SEG_GT, 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 1]]


def test_miou_and_aacc_hand_computed():
    stat = ConfusionStatistic('semseg', num_classes=3)
    stat.update(SEG_PRED, SEG_GT)
    out = stat.compute()
    # IoU = 1, 1/3, 1/3; 3 of 5 valid pixels correct (the ignored one is
    # predicted wrongly and must not count).
    assert out['mIoU'] == pytest.approx(100 * 5 / 9)
    assert out['aAcc'] == pytest.approx(60.0)


def test_miou_counts_absent_class_as_zero():
    stat = ConfusionStatistic('semseg', num_classes=4)
    stat.update(SEG_PRED, SEG_GT)
    assert stat.compute()['mIoU'] == pytest.approx(100 * (5 / 3) / 4)


def test_miou_nanmean_drops_absent_class():
    # Class 3 never occurs: 'nanmean' averages the three present classes
    # (1, 1/3, 1/3), 'zero' keeps a 0 in a mean over four.
    stat = ConfusionStatistic('semseg', num_classes=4, absent_class='nanmean')
    stat.update(SEG_PRED, SEG_GT)
    assert stat.compute()['mIoU'] == pytest.approx(100 * 5 / 9)
    assert math.isnan(iou_per_class(stat.state['confusion'], 'nanmean')[3])
    assert iou_per_class(stat.state['confusion'], 'zero')[3] == 0
    # A class predicted but absent from the ground truth is present (IoU 0)
    # under both conventions.
    stat = ConfusionStatistic('semseg', num_classes=2, absent_class='nanmean')
    stat.update(t([[1, 0]], torch.long), t([[0, 0]], torch.long))
    assert stat.compute()['mIoU'] == pytest.approx(100 * 0.5 / 2)
    with pytest.raises(ValueError, match='absent_class'):
        ConfusionStatistic('semseg', num_classes=2, absent_class='drop')


def test_confusion_rejects_out_of_range_labels():
    stat = ConfusionStatistic('human_parts', num_classes=2)
    with pytest.raises(ValueError, match='human_parts.*predicted'):
        stat.update(SEG_PRED, t([[0, 1, 1], [0, 255, 1]], torch.long))
    with pytest.raises(ValueError, match='ground-truth labels'):
        stat.update(t([[0]], torch.long), t([[7]], torch.long))


# ----------------------------------------------------------------- depth
def test_depth_metrics_hand_computed():
    gt = t([[1.0, 2.0, 0.0], [4.0, 0.5, 2.0]])
    pred = t([[2.0, 2.0, 5.0], [2.0, 1.0, 3.0]])  # 5.0 is on an invalid px
    stat = DepthStatistic('depth')
    stat.update(pred, gt)
    out = stat.compute()
    ln2, ln15 = math.log(2), math.log(1.5)
    assert out['rmse'] == pytest.approx(math.sqrt(6.25 / 5))
    assert out['log_rmse'] == pytest.approx(
        math.sqrt((3 * ln2**2 + ln15**2) / 5))
    assert out['abs_rel'] == pytest.approx(3.0 / 5)
    assert out['abs_err'] == pytest.approx(4.5 / 5)
    # ratios 2, 1, 2, 2, 1.5
    assert out['delta1'] == pytest.approx(20.0)
    assert out['delta2'] == pytest.approx(40.0)
    assert out['delta3'] == pytest.approx(40.0)


def test_depth_pooled_over_pixels_not_images():
    stat = DepthStatistic('depth')
    stat.update(t([[1.0]]), t([[2.0]]))  # 1 pixel, error 1
    stat.update(t([[3.0, 3.0, 3.0]]), t([[3.0, 3.0, 3.0]]))  # 3 px, error 0
    assert stat.compute()['rmse'] == pytest.approx(math.sqrt(1 / 4))


def test_depth_clamps_non_positive_prediction():
    stat = DepthStatistic('depth')
    stat.update(t([[-1.0]]), t([[2.0]]))
    out = stat.compute()
    assert out['rmse'] == pytest.approx(2.0)
    assert out['log_rmse'] == pytest.approx(math.log(2.0 / 1e-9))
    assert out['delta3'] == 0.0


def test_depth_without_valid_pixels_is_nan():
    stat = DepthStatistic('depth')
    stat.update(t([[1.0]]), t([[0.0]]))
    assert math.isnan(stat.compute()['rmse'])


# --------------------------------------------------------------- normals
def _normals_pair():
    s20, c20 = math.sin(math.radians(20)), math.cos(math.radians(20))
    gt = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 2], [0, 0, 1], [1, 0, 0],
                       [0, 0, 0]], dtype=torch.float32)
    pred = torch.tensor([[0, 0, 1], [s20, 0, c20], [0, 1, 1], [1, 0, 0],
                         [-1, 0, 0], [0, 1, 0]], dtype=torch.float32)
    # angles 0, 20, 45, 90, 180 and one invalid pixel; shape (3, 2, 3)
    return pred.t().reshape(3, 2, 3), gt.t().reshape(3, 2, 3)


def test_normals_metrics_hand_computed():
    pred, gt = _normals_pair()
    stat = NormalsStatistic('normals')
    stat.update(pred, gt)
    out = stat.compute()
    assert out['mean'] == pytest.approx(335 / 5)
    assert out['rmse'] == pytest.approx(math.sqrt(
        (0 + 400 + 2025 + 8100 + 32400) / 5))
    assert out['median'] == pytest.approx(45.0, abs=0.0051)
    assert out['11.25'] == pytest.approx(20.0)
    assert out['22.5'] == pytest.approx(40.0)
    assert out['30'] == pytest.approx(40.0)


def test_normals_validity_sum_drops_cancelling_vectors():
    # Ground truth (1, -1, 0) / sqrt(2) is a valid normal whose components
    # sum to zero: 'any' counts it, 'sum' (MTAN / LibMTL / EMA-Net) does not.
    r = 1 / math.sqrt(2)
    gt = torch.tensor([[0, 0, 1], [r, -r, 0], [0, 0, 0]],
                      dtype=torch.float32).t().reshape(3, 1, 3)
    pred = torch.tensor([[0, 0, 1], [0, 0, 1], [0, 0, 1]],
                        dtype=torch.float32).t().reshape(3, 1, 3)
    any_stat = NormalsStatistic('normals', validity='any')
    any_stat.update(pred, gt)
    sum_stat = NormalsStatistic('normals', validity='sum')
    sum_stat.update(pred, gt)
    # angles 0 and 90 (valid under 'any'); only 0 under 'sum'
    assert any_stat.compute()['mean'] == pytest.approx(45.0)
    assert int(any_stat.state['n_valid']) == 2
    assert sum_stat.compute()['mean'] == pytest.approx(0.0)
    assert int(sum_stat.state['n_valid']) == 1
    with pytest.raises(ValueError, match='validity'):
        NormalsStatistic('normals', validity='norm')


def test_normals_median_even_count_and_resolution():
    stat = NormalsStatistic('normals', hist_bins=180)  # 1-degree bins
    s, c = math.sin(math.radians(10.3)), math.cos(math.radians(10.3))
    pred = torch.tensor([[0, 0, 1], [s, 0, c]], dtype=torch.float32)
    gt = torch.tensor([[0, 0, 1], [0, 0, 1]], dtype=torch.float32)
    stat.update(pred.t().reshape(3, 1, 2), gt.t().reshape(3, 1, 2))
    # angles 0 and 10.3: bins 0 and 10, centres 0.5 and 10.5
    assert stat.compute()['median'] == pytest.approx(5.5)
    hist = torch.zeros(180, dtype=torch.long)
    hist[[3, 7, 9]] = 1
    assert histogram_median(hist) == pytest.approx(7.5)


def test_normals_small_angle_is_accurate():
    eps = 1e-4  # radians, where float32 acos of the dot product is coarse
    pred = torch.tensor([math.sin(eps), 0.0, math.cos(eps)]).view(3, 1, 1)
    gt = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1)
    stat = NormalsStatistic('normals')
    stat.update(pred, gt)
    assert stat.compute()['mean'] == pytest.approx(math.degrees(eps),
                                                   rel=1e-3)


# -------------------------------------------------------------- saliency
SAL_GT = t([[1, 1, 0], [0, 255, 1]], torch.long)
SAL_PRED = t([[0.9, 0.6, 0.7], [0.2, 0.99, 0.3]])


def f_beta(p, r, b2):
    return (1 + b2) * p * r / (b2 * p + r) if p + r > 0 else 0.0


def test_saliency_atrc_pooled_hand_computed():
    stat = SaliencyStatistic('saliency', preset='atrc',
                             thresholds=[0.25, 0.5, 0.75])
    stat.update(SAL_PRED, SAL_GT)
    out = stat.compute()
    expected_f = max(f_beta(3 / 4, 1, 0.3), f_beta(2 / 3, 2 / 3, 0.3),
                     f_beta(1, 1 / 3, 0.3))
    assert out['maxF'] == pytest.approx(100 * expected_f)
    assert out['maxF'] == pytest.approx(100 * 0.975 / 1.225)
    assert out['mIoU'] == pytest.approx(75.0)


def test_saliency_mtinet_per_image_hand_computed():
    stat = SaliencyStatistic('saliency', preset='mtinet',
                             thresholds=[0.25, 0.5, 0.75])
    stat.update(SAL_PRED, SAL_GT)
    stat.update(t([[0.8, 0.6]]), t([[0, 1]], torch.long))
    out = stat.compute()
    m_prec = [(0.75 + 0.5) / 2, (2 / 3 + 0.5) / 2, (1 + 0) / 2]
    m_rec = [1.0, (2 / 3 + 1) / 2, (1 / 3 + 0) / 2]
    expected_f = max(f_beta(p, r, 1.0) for p, r in zip(m_prec, m_rec))
    assert out['maxF'] == pytest.approx(100 * expected_f, rel=1e-9)
    assert out['mIoU'] == pytest.approx(100 * 0.625, rel=1e-9)


def test_saliency_pooled_differs_from_per_image():
    pooled = SaliencyStatistic('saliency', beta_sq=1.0,
                               thresholds=[0.25, 0.5, 0.75])
    pooled.update(SAL_PRED, SAL_GT)
    pooled.update(t([[0.8, 0.6]]), t([[0, 1]], torch.long))
    # pooled counts at 0.25: TP 4, predicted 6, actual 4
    assert pooled.compute()['maxF'] == pytest.approx(
        100 * f_beta(4 / 6, 1.0, 1.0))


def test_saliency_presets_and_comparison():
    atrc = SaliencyStatistic('saliency', preset='atrc')
    assert atrc.beta_sq == 0.3
    assert torch.allclose(atrc.thresholds,
                          torch.arange(1, 20, dtype=torch.float64) * 0.05)
    old = SaliencyStatistic('saliency', preset='mtinet')
    assert old.beta_sq == 1.0 and old.thresholds.numel() == 15
    assert old.thresholds[0] == pytest.approx(0.2)
    assert old.thresholds[-1] == pytest.approx(0.9)
    assert SALIENCY_PRESETS['atrc']['comparison'] == '>='
    # a probability equal to the threshold is salient for ATRC (>=) only
    for preset, expected in (('atrc', 100.0), ('mtinet', 0.0)):
        stat = SaliencyStatistic('saliency', preset=preset, thresholds=[0.5])
        stat.update(t([[0.5]]), t([[1]], torch.long))
        assert stat.compute()['maxF'] == pytest.approx(expected, abs=1e-6)
    assert make_thresholds(3).tolist() == [0.25, 0.5, 0.75]
    with pytest.raises(ValueError, match='saliency_preset'):
        SaliencyStatistic('saliency', preset='invpt-v2')
    with pytest.raises(ValueError, match='saliency_thresholds'):
        make_thresholds([0.5, 1.5])


def test_saliency_invpt_double_sigmoid_hand_computed():
    # Salient p = 0.7, 0.75; not salient p = 0.65. sigmoid(p) = 0.6682,
    # 0.6792, 0.6570: at t <= 0.65 all three are predicted (P = 2/3, R = 1),
    # at t >= 0.7 none is (F = 0). 'atrc' thresholds p itself: at t = 0.7
    # exactly the two salient pixels pass (F = 1).
    pred = t([[0.7, 0.75, 0.65]])
    gt = t([[1, 1, 0]], torch.long)
    invpt = SaliencyStatistic('saliency', preset='invpt')
    invpt.update(pred, gt)
    atrc = SaliencyStatistic('saliency', preset='atrc')
    atrc.update(pred, gt)
    assert invpt.compute()['maxF'] == pytest.approx(
        100 * f_beta(2 / 3, 1.0, 0.3))
    assert invpt.compute()['mIoU'] == pytest.approx(100 * 2 / 3)
    assert atrc.compute()['maxF'] == pytest.approx(100.0)
    # The scores span [0.5, 0.731]: thresholds from 0.75 on predict nothing
    # and those up to 0.5 predict everything.
    assert invpt.state['pred_pos'].tolist() == [3] * 13 + [0] * 6
    assert SALIENCY_PRESETS['invpt']['beta_sq'] == 0.3


def _invpt_reference_maxf(preds, gts):
    """Straightforward transcription of InvPT's test loop + SaliencyMeter:
    softmax probability x 255 in float32, /255, sigmoid, thresholds
    ``torch.arange(0.05, 1, 0.05)``, ``>=``, pooled counts, beta^2 0.3."""
    thresholds = torch.arange(0.05, 1, 0.05)
    tp = torch.zeros(len(thresholds))
    pred_pos = torch.zeros(len(thresholds))
    actual = torch.zeros(len(thresholds))
    for prob, gt in zip(preds, gts):
        scores = torch.sigmoid((prob.float() * 255).float() / 255.)
        valid = gt != 255
        for k, th in enumerate(thresholds):
            hit = torch.masked_select((scores >= th).long(), valid)
            target = torch.masked_select(gt.long(), valid)
            tp[k] += torch.sum(hit * target)
            pred_pos[k] += torch.sum(hit)
            actual[k] += torch.sum(target)
    precision = tp / pred_pos
    recall = tp / actual
    f = 1.3 * precision * recall / (0.3 * precision + recall)
    f[f != f] = 0
    return float(f.max())


def test_saliency_invpt_matches_reference_transcription():
    gen = torch.Generator().manual_seed(0)
    preds, gts = [], []
    for _ in range(3):
        logits = torch.randn(2, 24, 32, generator=gen) * 2
        preds.append(torch.softmax(logits, 0)[1:])
        gt = (torch.rand(1, 24, 32, generator=gen) < 0.4).long()
        gt[0, :2] = 255
        gts.append(gt)
    stat = SaliencyStatistic('saliency', preset='invpt')
    for pred, gt in zip(preds, gts):
        stat.update(pred, gt)
    expected = _invpt_reference_maxf(preds, gts)
    assert stat.compute()['maxF'] == pytest.approx(100 * expected, rel=1e-6)


# ------------------------------------------------------------------ edge
def test_edge_loss_hand_computed():
    gt = t([[1, 0], [255, 0]], torch.long)
    pred = t([[0.8, 0.4], [0.3, 0.1]])
    stat = EdgeLossStatistic('edge', pos_weight=0.95)
    stat.update(pred, gt)
    expected = (0.95 * -math.log(0.8) + 0.05 * -math.log(0.6) +
                0.05 * -math.log(0.9)) / 3
    assert stat.compute()['loss'] == pytest.approx(expected)

    def softplus(x):
        return math.log1p(math.exp(x))

    toolbox = EdgeLossStatistic('edge', mode='toolbox_logits')
    toolbox.update(pred, gt)
    expected = (0.95 * softplus(-0.8) + 0.05 * softplus(0.4) +
                0.05 * softplus(0.1)) / 3
    assert toolbox.compute()['loss'] == pytest.approx(expected)


def test_edge_loss_log_is_clamped():
    stat = EdgeLossStatistic('edge')
    stat.update(t([[0.0, 1.0]]), t([[1, 1]], torch.long))
    assert stat.compute()['loss'] == pytest.approx(0.95 * 100 / 2)


# --------------------------------------------------------------- delta_m
def test_delta_m_signs():
    values = dict(semseg=50.0, depth=0.5, normals=20.0)
    baselines = dict(semseg=40.0, depth=0.4, normals=25.0)
    hib = dict(semseg=True, depth=False, normals=False)
    # +25 (higher mIoU), -25 (higher RMSE), +20 (lower angle)
    assert delta_m(values, baselines, hib) == pytest.approx(20 / 3)
    assert relative_gain(0.3, 0.4, False) == pytest.approx(25.0)
    with pytest.raises(ValueError, match='exactly one'):
        delta_m(values, dict(semseg=1.0), hib)
    with pytest.raises(ValueError, match='non-zero'):
        relative_gain(1.0, 0.0, True)


# -------------------------------------------------------------- registry
def test_custom_statistic_plugs_in():

    @register_task_statistic
    class EdgeCountStatistic(TaskStatistic):
        metric_names = ('odsF', )
        kinds = ('binary', )

        def _init_state(self):
            return dict(n=torch.zeros((), dtype=torch.int64))

        def update(self, pred, gt):
            self._add('n', torch.tensor(gt.numel()))

        def compute(self):
            return dict(odsF=float(self.state['n']))

    stat = build_task_statistic(dict(type='EdgeCountStatistic'), 'edge')
    stat.update(t([[0.5, 0.5]]), t([[1, 0]], torch.long))
    assert stat.compute() == dict(odsF=2.0)
    with pytest.raises(ValueError, match="task 'depth' is 'continuous'"):
        build_task_statistic(dict(type='EdgeCountStatistic'), 'depth')
    with pytest.raises(KeyError, match='unknown task statistic'):
        build_task_statistic(dict(type='Nope'), 'edge')


# ------------------------------------------------------------- exact sums
def test_fixed_point_sums_are_exact_and_order_free():
    from fractions import Fraction

    from mmmtl.evaluation.functional import (exact_zeros, from_fixed_point,
                                             to_fixed_point)
    g = torch.Generator().manual_seed(0)
    values = (torch.rand(300, generator=g, dtype=torch.float64) - 0.5) * \
        10.0**torch.randint(-8, 9, (300, ), generator=g)
    values = values.tolist() + [0.0, 3e30, -2.0**-70]
    forward, backward = exact_zeros(), exact_zeros()
    for v in values:
        forward += to_fixed_point(v)
    for v in reversed(values):
        backward += to_fixed_point(v)
    assert torch.equal(forward, backward)
    # truncation toward zero at 2^-64 per value, then one rounding
    truth = sum(Fraction(int(Fraction(v) * 2**64), 2**64) for v in values)
    assert float(from_fixed_point(forward)) == float(truth)
    assert float(from_fixed_point(forward)) == pytest.approx(
        math.fsum(values), rel=1e-15)
    both = from_fixed_point(to_fixed_point(torch.tensor([1.5, math.nan])))
    assert both[0] == 1.5 and math.isnan(both[1])
