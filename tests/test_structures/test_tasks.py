import pytest
import torch
from mmengine.structures import PixelData

from mmmtl.structures import (TASKS, MultiTaskDataSample, check_tasks,
                              get_task, task_of_results_key)


def test_table_names_every_task_once():
    assert set(TASKS) == {
        'semseg', 'depth', 'normals', 'edge', 'saliency', 'human_parts'
    }
    for field in ('results_key', 'gt_field', 'pred_field'):
        values = [getattr(spec, field) for spec in TASKS.values()]
        assert len(set(values)) == len(values), field


@pytest.mark.parametrize('name', sorted(TASKS))
def test_spec_is_consistent(name):
    spec = TASKS[name]
    assert spec.name == name
    assert spec.kind in ('discrete', 'continuous', 'binary')
    # Padding must never create valid pixels.
    assert spec.pad_value == spec.ignore_value
    assert spec.primary_metric in [m.name for m in spec.metrics]
    if spec.is_discrete:
        assert spec.channels is None and spec.classes_key
        assert spec.interpolation == 'nearest'
    if spec.is_binary:
        assert spec.channels == 1 and spec.interpolation == 'nearest'
    if spec.is_continuous:
        assert spec.interpolation == 'bilinear_valid'
        assert spec.gt_dtype == 'float'
    if spec.unit_norm:
        assert spec.flip_negate_channels['horizontal'] == (0, )
        assert spec.gt_channels == 3
    else:
        assert spec.flip_negate_channels == {}
    assert task_of_results_key(spec.results_key) is spec


def test_metric_directions():
    assert TASKS['semseg'].metric('mIoU').higher_is_better
    assert not TASKS['depth'].metric('rmse').higher_is_better
    assert not TASKS['normals'].metric('mean').higher_is_better
    with pytest.raises(KeyError, match='has no metric'):
        TASKS['depth'].metric('mIoU')


def test_num_outputs():
    assert TASKS['depth'].num_outputs() == 1
    assert TASKS['normals'].num_outputs() == 3
    assert TASKS['semseg'].num_outputs(num_classes=40) == 40
    assert TASKS['semseg'].num_outputs(metainfo=dict(classes=('a', 'b'))) == 2
    assert TASKS['human_parts'].num_outputs(
        metainfo=dict(human_parts_classes=('bg', 'head', 'torso'))) == 3
    with pytest.raises(ValueError, match='number of classes'):
        TASKS['semseg'].num_outputs()


def test_unknown_tasks_are_named():
    with pytest.raises(KeyError, match="unknown task 'dpeth'"):
        get_task('dpeth')
    with pytest.raises(KeyError, match="'segm' in model.tasks"):
        check_tasks(['semseg', 'segm'], 'model.tasks')
    with pytest.raises(ValueError, match='twice'):
        check_tasks(['depth', 'depth'])
    with pytest.raises(TypeError, match='list of task names'):
        check_tasks('depth')


def test_data_sample_fields():
    sample = MultiTaskDataSample()
    for name, spec in TASKS.items():
        data = torch.rand(spec.gt_channels, 4, 5)
        sample.set_gt(name, data)
        assert sample.get_gt(name).data is data
        assert isinstance(getattr(sample, spec.gt_field), PixelData)
        sample.set_pred(name, data + 1)
        assert torch.equal(sample.get_pred(name).data, data + 1)
    assert set(sample.gt_tasks()) == set(TASKS)
    with pytest.raises(AssertionError):
        sample.gt_normals = torch.zeros(3, 2, 2)  # must be PixelData
