"""Confusion-matrix statistic of discrete tasks (mIoU, aAcc) against
hand-computed values."""
import math

import pytest
import torch

from mmmtl.evaluation.statistics import (
    ConfusionStatistic, confusion_matrix, iou_per_class)


def t(rows, dtype=torch.float32):
    """A (1, H, W) tensor from nested lists."""
    return torch.tensor(rows, dtype=dtype)[None]


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
