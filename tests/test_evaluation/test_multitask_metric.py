"""MultiTaskMetric: keys, hand-computed values, delta_m, state, errors."""
import math

import pytest
import torch
from mmseg.registry import METRICS

from mmmtl.evaluation.statistics import (TaskStatistic,
                                         register_task_statistic)
from mmmtl.evaluation.metrics.multitask_metric import MultiTaskMetric
from mmmtl.structures import TASKS, MultiTaskDataSample

ALL = ['semseg', 'depth', 'normals', 'edge', 'saliency', 'human_parts']


def t(rows, dtype=torch.float32):
    return torch.tensor(rows, dtype=dtype)[None]


def hand_sample() -> MultiTaskDataSample:
    """A 2x3 sample whose metrics are computed by hand in the tests."""
    s = MultiTaskDataSample()
    s.set_gt('semseg', t([[0, 1, 2], [2, 255, 1]], torch.long))
    s.set_pred('semseg', t([[0, 2, 2], [1, 0, 1]], torch.long))
    s.set_gt('depth', t([[1.0, 2.0, 0.0], [4.0, 0.5, 2.0]]))
    s.set_pred('depth', t([[2.0, 2.0, 5.0], [2.0, 1.0, 3.0]]))
    s.set_gt('saliency', t([[1, 1, 0], [0, 255, 1]], torch.long))
    s.set_pred('saliency', t([[0.9, 0.6, 0.7], [0.2, 0.99, 0.3]]))
    s.set_gt('edge', t([[1, 0, 255], [0, 255, 255]], torch.long))
    s.set_pred('edge', t([[0.8, 0.4, 0.3], [0.1, 0.5, 0.5]]))
    gt_n = torch.zeros(3, 2, 3)
    gt_n[2] = 1.0
    gt_n[:, 1, 2] = 0.0  # one invalid normal
    pred_n = torch.zeros(3, 2, 3)
    pred_n[2] = 1.0
    pred_n[:, 0, 1] = torch.tensor([1.0, 0.0, 0.0])  # 90 degrees
    s.set_gt('normals', gt_n)
    s.set_pred('normals', pred_n)
    return s


def random_sample(seed: int, h: int = 4, w: int = 5, tasks=ALL):
    g = torch.Generator().manual_seed(seed)
    s = MultiTaskDataSample()
    for task in tasks:
        if task in ('semseg', 'human_parts'):
            gt = torch.randint(0, 3, (1, h, w), generator=g)
            gt[torch.rand(1, h, w, generator=g) < 0.2] = 255
            pred = torch.randint(0, 3, (1, h, w), generator=g)
        elif task == 'depth':
            gt = torch.rand(1, h, w, generator=g) * 3
            gt[gt < 0.3] = 0.0
            pred = torch.rand(1, h, w, generator=g) * 3
        elif task == 'normals':
            gt = torch.nn.functional.normalize(
                torch.randn(3, h, w, generator=g), dim=0)
            gt[:, 0, 0] = 0.0
            pred = torch.randn(3, h, w, generator=g)
        else:
            gt = torch.randint(0, 2, (1, h, w), generator=g)
            gt[0, -1, -1] = 255
            pred = torch.rand(1, h, w, generator=g)
        s.set_gt(task, gt)
        s.set_pred(task, pred)
    return s


#: Three saliency thresholds, few enough to compute the maxF by hand.
SAL3 = dict(saliency=dict(thresholds=[0.25, 0.5, 0.75]))


def build(**kwargs) -> MultiTaskMetric:
    kwargs.setdefault('tasks', ['semseg', 'depth', 'normals', 'edge',
                                'saliency'])
    metric = METRICS.build(dict(type='MultiTaskMetric', **kwargs))
    metric.dataset_meta = dict(classes=('a', 'b', 'c'),
                               human_parts_classes=('bg', 'head', 'body'))
    return metric


def test_hand_computed_values_and_keys():
    metric = build(statistics=SAL3)
    metric.process({}, [hand_sample().to_dict()])
    out = metric.evaluate(1)
    expected_keys = {
        f'{task}/{m.name}'
        for task in metric.tasks for m in TASKS[task].metrics
        if m.name != 'odsF'
    }
    assert set(out) == expected_keys
    assert out['semseg/mIoU'] == pytest.approx(100 * 5 / 9)
    assert out['semseg/aAcc'] == pytest.approx(60.0)
    assert out['depth/rmse'] == pytest.approx(math.sqrt(1.25))
    assert out['depth/abs_rel'] == pytest.approx(0.6)
    assert out['depth/delta1'] == pytest.approx(20.0)
    # normals: 5 valid pixels, one at 90 degrees
    assert out['normals/mean'] == pytest.approx(18.0)
    assert out['normals/rmse'] == pytest.approx(math.sqrt(8100 / 5))
    assert out['normals/median'] == pytest.approx(0.0, abs=0.0051)
    assert out['normals/11.25'] == pytest.approx(80.0)
    assert out['saliency/maxF'] == pytest.approx(100 * 0.975 / 1.225)
    assert out['saliency/mIoU'] == pytest.approx(75.0)
    assert out['edge/loss'] == pytest.approx(
        (0.95 * -math.log(0.8) + 0.05 * -math.log(0.6) +
         0.05 * -math.log(0.9)) / 3)


def test_data_samples_objects_and_dicts_agree():
    samples = [random_sample(i, tasks=ALL) for i in range(3)]
    a = build(tasks=ALL)
    a.process({}, samples)
    b = build(tasks=ALL)
    b.process({}, [s.to_dict() for s in samples])
    assert a.evaluate(3) == b.evaluate(3)


def test_missing_ground_truth_skips_task_for_that_sample():
    with_depth = hand_sample()
    no_depth = random_sample(1, h=2, w=3, tasks=['semseg'])
    metric = build(tasks=['semseg', 'depth'])
    metric.process({}, [with_depth, no_depth])
    out = metric.evaluate(2)
    assert out['depth/rmse'] == pytest.approx(math.sqrt(1.25))


def test_class_count_from_config_or_metainfo():
    metric = MultiTaskMetric(tasks=['semseg'], num_classes=dict(semseg=4))
    metric.process({}, [hand_sample()])
    assert metric.evaluate(1)['semseg/mIoU'] == pytest.approx(
        100 * (5 / 3) / 4)
    metric = MultiTaskMetric(tasks=['human_parts'])
    with pytest.raises(ValueError, match='human_parts_classes'):
        metric.process({}, [random_sample(0, tasks=['human_parts'])])


def test_state_size_is_constant():
    metric = build(tasks=ALL)
    metric.process({}, [random_sample(0)])
    size = metric.state_numel()
    for i in range(1, 40):
        metric.process({}, [random_sample(i)])
    assert metric.state_numel() == size
    assert metric.results == []
    assert metric._counts['images'] == 40
    metric.evaluate(40)


def test_evaluate_resets_state():
    metric = build(tasks=['semseg'])
    metric.process({}, [hand_sample()])
    first = metric.evaluate(1)
    metric.process({}, [hand_sample()])
    assert metric.evaluate(1) == first


def test_delta_m_from_baselines():
    baselines = {'semseg': 50.0, 'depth': 1.0, 'normals': 20.0,
                 'edge': 0.1, 'saliency': 60.0}
    metric = build(single_task_baselines=baselines,
                   statistics=SAL3)
    metric.process({}, [hand_sample()])
    out = metric.evaluate(1)
    gains = [
        (out['semseg/mIoU'] - 50.0) / 50.0,  # higher is better
        -(out['depth/rmse'] - 1.0) / 1.0,  # lower is better
        -(out['normals/mean'] - 20.0) / 20.0,
        -(out['edge/loss'] - 0.1) / 0.1,
        (out['saliency/maxF'] - 60.0) / 60.0,
    ]
    assert out['mtl/delta_m'] == pytest.approx(100 * sum(gains) / 5)
    # a better semseg than its baseline raises delta_m, a worse depth lowers
    assert gains[0] > 0 and gains[1] < 0


def test_primary_metric_override():
    metric = build(tasks=['saliency', 'depth'],
                   single_task_baselines=dict(saliency=50.0, depth=2.0),
                   primary_metrics=dict(saliency='mIoU', depth='delta1'),
                   statistics=SAL3)
    metric.process({}, [hand_sample()])
    out = metric.evaluate(1)
    expected = ((75.0 - 50.0) / 50.0 + (20.0 - 2.0) / 2.0) / 2 * 100
    assert out['mtl/delta_m'] == pytest.approx(expected)


def test_config_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"not evaluated \['human_parts'\]"):
        build(tasks=['semseg'],
              single_task_baselines=dict(semseg=1.0, human_parts=2.0))
    with pytest.raises(ValueError, match=r"missing \['depth'\]"):
        build(tasks=['semseg', 'depth'], single_task_baselines=dict(
            semseg=1.0))
    with pytest.raises(ValueError, match="primary metric 'odsF'"):
        build(tasks=['edge'], primary_metrics=dict(edge='odsF'))
    with pytest.raises(ValueError, match='no direction'):
        build(tasks=['depth'], primary_metrics=dict(depth='sq_rel'))
    with pytest.raises(ValueError, match='SaliencyStatistic preset'):
        build(tasks=['saliency'], statistics=dict(saliency=dict(
            preset='nope')))
    with pytest.raises(ValueError, match='num_classes'):
        build(tasks=['depth'], num_classes=dict(depth=3))
    with pytest.raises(KeyError, match='extra_statistics'):
        build(tasks=['edge'], extra_statistics=dict(edge=[dict(type='X')]))


def test_wrong_shapes_and_values_raise():
    metric = build(tasks=['depth'])
    s = MultiTaskDataSample()
    s.set_gt('depth', torch.ones(1, 2, 3))
    s.set_pred('depth', torch.ones(1, 4, 6))
    with pytest.raises(ValueError, match=r"'depth'.*\(1, 4, 6\).*\(1, 2, 3\)"):
        metric.process({}, [s])
    metric = build(tasks=['normals'])
    s = MultiTaskDataSample()
    s.set_gt('normals', torch.ones(3, 2, 3))
    s.set_pred('normals', torch.ones(1, 2, 3))
    with pytest.raises(ValueError, match='normals'):
        metric.process({}, [s])
    metric = build(tasks=['saliency'])
    s = MultiTaskDataSample()
    s.set_gt('saliency', torch.ones(1, 2, 3, dtype=torch.long))
    s.set_pred('saliency', torch.full((1, 2, 3), 3.0))
    with pytest.raises(ValueError, match='probabilities'):
        metric.process({}, [s])
    metric = build(tasks=['edge'])
    s = MultiTaskDataSample()
    s.set_gt('edge', torch.ones(1, 2, 3, dtype=torch.long))
    with pytest.raises(KeyError, match='pred_edge_map'):
        metric.process({}, [s])


def test_duplicated_samples_raise():
    metric = build(tasks=['semseg'])
    metric.process({}, [hand_sample(), hand_sample(), hand_sample()])
    with pytest.raises(RuntimeError, match='round_up=False'):
        metric.evaluate(2)
    # the state was dropped: a correct evaluation works afterwards
    metric.process({}, [hand_sample()])
    assert metric.evaluate(1)['semseg/aAcc'] == pytest.approx(60.0)


def test_prefix():
    metric = build(tasks=['semseg'], prefix='val')
    metric.process({}, [hand_sample()])
    assert set(metric.evaluate(1)) == {'val/semseg/mIoU', 'val/semseg/aAcc'}


@register_task_statistic
class PixelAccuracyAsODSStatistic(TaskStatistic):
    """A stand-in for the edge ODS-F: % of valid pixels right at 0.5."""

    metric_names = ('odsF', )
    kinds = ('binary', )

    def _init_state(self):
        return dict(right=torch.zeros((), dtype=torch.int64),
                    n=torch.zeros((), dtype=torch.int64))

    def update(self, pred, gt):
        valid = gt != 255
        self._add('right', ((pred[valid] > 0.5) == (gt[valid] == 1)).sum())
        self._add('n', valid.sum())

    def compute(self):
        return dict(odsF=100.0 * float(self.state['right']) /
                    float(self.state['n']))


def test_extra_statistic_plugs_in_with_delta_m():
    metric = build(
        tasks=['edge'],
        extra_statistics=dict(
            edge=[dict(type='PixelAccuracyAsODSStatistic')]),
        primary_metrics=dict(edge='odsF'),
        single_task_baselines=dict(edge=50.0))
    metric.process({}, [hand_sample()])
    out = metric.evaluate(1)
    # edge pixels: 0.8 vs 1, 0.4 vs 0, 0.1 vs 0 -> all right
    assert out['edge/odsF'] == pytest.approx(100.0)
    assert 'edge/loss' in out
    assert out['mtl/delta_m'] == pytest.approx(100.0)  # (100 - 50) / 50


def test_padded_ground_truth_is_cropped_only_when_pure_padding():
    padded = hand_sample()
    for task in ('semseg', 'depth', 'normals', 'edge', 'saliency'):
        gt = padded.get_gt(task).data
        pad = TASKS[task].pad_value
        big = torch.full((gt.shape[0], 4, 5), float(pad), dtype=gt.dtype)
        big[:, :2, :3] = gt
        padded.set_gt(task, big)
    metric = build(statistics=SAL3)
    metric.process({}, [padded])
    reference = build(statistics=SAL3)
    reference.process({}, [hand_sample()])
    assert metric.evaluate(1) == reference.evaluate(1)
    # a larger ground truth with valid pixels outside is an error
    s = MultiTaskDataSample()
    s.set_gt('depth', torch.ones(1, 3, 3))
    s.set_pred('depth', torch.ones(1, 2, 3))
    with pytest.raises(ValueError, match=r'\(1, 2, 3\).*\(1, 3, 3\)'):
        build(tasks=['depth']).process({}, [s])


def test_protocol_options_reach_the_statistics():
    # 4 classes, class 3 absent: 'nanmean' averages 1, 1/3, 1/3 (5/9),
    # 'zero' keeps the 0 (5/12). The hand sample's normals have no
    # cancelling components, so 'sum' and 'any' agree here (mean 18 deg).
    for absent, expected in (('zero', 100 * 5 / 12), ('nanmean', 100 * 5 / 9)):
        metric = build(tasks=['semseg', 'normals', 'saliency'],
                       num_classes=dict(semseg=4), statistics=dict(
                           semseg=dict(absent_class=absent),
                           normals=dict(validity='sum'),
                           saliency=dict(preset='invpt')))
        metric.process({}, [hand_sample()])
        out = metric.evaluate(1)
        assert out['semseg/mIoU'] == pytest.approx(expected)
        assert out['normals/mean'] == pytest.approx(90 / 5)
    stats = metric._ensure_built()
    assert stats['normals'][0].validity == 'sum'
    assert stats['saliency'][0].score == 'double_sigmoid'
    with pytest.raises(ValueError, match='absent_class'):
        build(statistics=dict(semseg=dict(absent_class='drop')))
    with pytest.raises(ValueError, match='validity'):
        build(statistics=dict(normals=dict(validity='norm')))


def test_task_table_gives_each_task_its_default_statistic():
    metric = build(tasks=list(TASKS), num_classes=dict(semseg=3,
                                                       human_parts=2))
    stats = {t: s[0] for t, s in metric._ensure_built().items()}
    assert {t: type(s).__name__ for t, s in stats.items()} == dict(
        semseg='ConfusionStatistic', depth='DepthStatistic',
        normals='NormalsStatistic', edge='EdgeLossStatistic',
        saliency='SaliencyStatistic', human_parts='ConfusionStatistic')
    # the toolbox conventions of the metric's former defaults
    assert stats['semseg'].num_classes == 3
    assert stats['human_parts'].absent_class == 'zero'
    assert (stats['normals'].validity, stats['normals'].hist_bins) == (
        'any', 18000)
    assert (stats['edge'].pos_weight, stats['edge'].mode) == (
        0.95, 'probability')
    assert (stats['saliency'].preset, stats['saliency'].beta_sq,
            stats['saliency'].thresholds.numel()) == ('atrc', 0.3, 19)


def test_statistics_override_merges_or_replaces_the_default():
    metric = build(tasks=['edge', 'saliency'], statistics=dict(
        edge=dict(mode='toolbox_logits'),
        saliency=dict(type='SaliencyStatistic', preset='mtinet'),
        depth=dict(eps=0.5)))  # not evaluated: ignored
    stats = metric._ensure_built()
    assert (stats['edge'][0].pos_weight, stats['edge'][0].mode) == (
        0.95, 'toolbox_logits')
    assert stats['saliency'][0].preset == 'mtinet'
    assert 'depth' not in stats
    # another type replaces the default and its options
    metric = build(tasks=['edge'], primary_metrics=dict(edge='odsF'),
                   statistics=dict(edge=dict(
                       type='PixelAccuracyAsODSStatistic')))
    assert [type(s).__name__ for s in metric._ensure_built()['edge']] == [
        'PixelAccuracyAsODSStatistic']
    with pytest.raises(KeyError, match="unknown task 'sal'"):
        build(statistics=dict(sal=dict(preset='atrc')))
    with pytest.raises(KeyError, match=r"statistics\['edge'\]"):
        build(statistics=dict(edge=dict(type='Nope')))
    with pytest.raises(TypeError, match='pos_weigth'):
        build(statistics=dict(edge=dict(pos_weigth=0.5)))


def test_tasks_default_to_the_dataset_tasks():
    metric = METRICS.build(dict(type='MultiTaskMetric'))
    assert metric.tasks is None
    with pytest.raises(ValueError, match="no tasks.*metainfo has 'tasks'"):
        metric.process({}, [hand_sample()])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'),
                               tasks=['semseg', 'depth'])
    assert metric.tasks == ['semseg', 'depth']
    metric.process({}, [hand_sample()])
    reference = build(tasks=['semseg', 'depth'])
    reference.process({}, [hand_sample()])
    assert metric.evaluate(1) == reference.evaluate(1)
    # task-dependent arguments are checked against the dataset's tasks
    metric = METRICS.build(dict(type='MultiTaskMetric',
                                single_task_baselines=dict(semseg=50.0)))
    with pytest.raises(ValueError, match=r"missing \['depth'\]"):
        metric.dataset_meta = dict(tasks=['semseg', 'depth'])
    # given tasks must be tasks of the dataset
    metric = build(tasks=['semseg', 'edge'])
    with pytest.raises(ValueError, match=r"names \['edge'\].*\['semseg'\]"):
        metric.dataset_meta = dict(tasks=['semseg'])
    with pytest.raises(KeyError, match="unknown task 'sem'"):
        metric.dataset_meta = dict(tasks=['sem'])
