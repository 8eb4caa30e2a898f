"""Saliency statistic and its presets against hand-computed values."""
import pytest
import torch

from mmmtl.evaluation.statistics import (
    SALIENCY_PRESETS, SaliencyStatistic, make_thresholds)


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


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
    with pytest.raises(ValueError, match='SaliencyStatistic preset'):
        SaliencyStatistic('saliency', preset='invpt-v2')
    with pytest.raises(ValueError, match='SaliencyStatistic thresholds'):
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
