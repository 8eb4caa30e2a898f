"""MultiTaskEncoderDecoder: losses, weights, prediction geometry."""
import math

import pytest
import torch
from mmseg.registry import MODELS

from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401  (registers)
from mmmtl.structures import TASKS, MultiTaskDataSample
from mmmtl.testing import (TINY_TASKS, random_batch, random_sample,
                           tiny_model_cfg)

TASK_LIST = list(TINY_TASKS)


def test_loss_keys_weights_and_log_only_values():
    model = MODELS.build(tiny_model_cfg(task_weights=dict(depth=2.0)))
    data = model.data_preprocessor(random_batch(), training=True)
    losses = model.loss(data['inputs'], data['data_samples'])
    expected = {
        'semseg.loss_ce', 'depth.loss_l1', 'normals.loss_normals',
        'edge.loss_bce', 'saliency.loss_bce'
    }
    assert expected <= set(losses)
    for key in expected:
        task = key.split('.')[0]
        assert torch.allclose(losses[key],
                              model.task_weights[task] *
                              losses[f'{task}.unweighted'])
        assert losses[f'weight.{task}'].item() == model.task_weights[task]
    assert losses['depth.loss_l1'].item() == pytest.approx(
        2 * losses['depth.unweighted'].item())
    # only the weighted losses are optimised (keys containing 'loss')
    total, log_vars = model.parse_losses(losses)
    assert total.item() == pytest.approx(
        sum(losses[k].item() for k in expected), rel=1e-6)
    assert 'depth.unweighted' in log_vars


def test_task_weights_change_gradients():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(tasks=['depth']))
    data = model.data_preprocessor(random_batch(), training=True)
    params = model.decode_head.predictors['depth'].weight

    def grad_with(weight):
        model.zero_grad()
        model.task_weights['depth'] = weight
        total, _ = model.parse_losses(
            model.loss(data['inputs'], data['data_samples']))
        total.backward()
        return params.grad.clone()

    model.train(False)  # freeze BN statistics so both passes match
    g1, g3 = grad_with(1.0), grad_with(3.0)
    assert torch.allclose(g3, 3 * g1, rtol=1e-4, atol=1e-7)


def test_uncertainty_weighting_hand_values():
    """``uncertainty_weighting=True`` alone switches the scheme on: the model
    optimises ``w_t exp(-s_t) L_t + s_t`` and logs ``w_t exp(-s_t)``."""
    tasks = ('semseg', 'depth')
    model = MODELS.build(tiny_model_cfg(tasks=tasks,
                                        uncertainty_weighting=True,
                                        task_weights=dict(semseg=3.0)))
    assert set(model.log_variances) == set(tasks)
    with torch.no_grad():
        model.log_variances['depth'].fill_(math.log(2.0))
    data = model.data_preprocessor(random_batch(tasks=tasks), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    name = model.decode_head.losses['depth'].loss_name
    raw = losses['depth.unweighted']
    torch.testing.assert_close(losses[f'depth.{name}'].detach(), 0.5 * raw)
    torch.testing.assert_close(losses['semseg.loss_ce'].detach(),
                               3.0 * losses['semseg.unweighted'])
    # the effective weights are what the segmentor logs
    assert losses['weight.depth'].item() == pytest.approx(0.5)
    assert losses['weight.semseg'].item() == pytest.approx(3.0)
    assert losses['depth.loss_log_var'].item() == pytest.approx(math.log(2))
    # d/ds (exp(-s) L + s) = 1 - exp(-s) L
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.log_variances['depth'].grad.item() == pytest.approx(
        1 - 0.5 * raw.item(), rel=1e-5)
    assert model.task_weights == {'semseg': 3.0, 'depth': 1.0}
    assert MODELS.build(tiny_model_cfg(tasks=tasks)).log_variances is None


def test_tasks_written_once_on_the_model():
    """``model.tasks`` fills the head's (and CCR's) tasks; disagreeing
    lists and a missing list are refused."""
    cfg = tiny_model_cfg(tasks=['semseg', 'depth'])
    head = cfg['decode_head']
    tasks = head.pop('tasks')
    model = MODELS.build(dict(cfg, tasks=tasks, auxiliary_losses=[dict(
        type='CrossTaskTripletLoss', in_channels=8)]))
    assert model.tasks == model.decode_head.tasks == tasks
    assert model.auxiliary_losses[0].tasks == tasks
    assert 'tasks' not in head  # the config is not modified
    with pytest.raises(ValueError, match='set `model.tasks`'):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match=r"predicts tasks \['depth'\] but "
                       r"model.tasks is \['semseg', 'depth'\]"):
        MODELS.build(dict(cfg, tasks=tasks,
                          decode_head=dict(head, tasks=['depth'])))
    single = dict(cfg, tasks=['depth'],
                  decode_head=dict(head, type='SingleTaskHead'))
    single['decode_head'].pop('num_classes')
    assert MODELS.build(single).decode_head.tasks == ['depth']
    single['decode_head']['task'] = 'semseg'
    with pytest.raises(ValueError, match="predicts tasks \\['semseg'\\]"):
        MODELS.build(single)
    with pytest.raises(ValueError, match='give `task` or `tasks`'):
        MODELS.build(dict(single['decode_head'], tasks=['semseg']))
    with pytest.raises(ValueError, match='predicts one task'):
        MODELS.build(dict(single['decode_head'], task=None,
                          tasks=['semseg', 'depth']))


def test_unknown_task_weight_is_refused():
    with pytest.raises(ValueError, match=r"task_weights names tasks \['dpth'"):
        MODELS.build(tiny_model_cfg(task_weights=dict(dpth=1.0)))


def test_predict_outputs_every_task_at_original_size():
    model = MODELS.build(tiny_model_cfg()).eval()
    data = random_batch(n=2, h=30, w=37)
    for s in data['data_samples']:
        s.set_metainfo(dict(ori_shape=(45, 55)))
    data = model.data_preprocessor(data, training=False)
    assert data['inputs'].shape[-2:] == (32, 64)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
    for sample in results:
        assert sample.pred_sem_seg.data.shape == (1, 45, 55)
        assert sample.pred_sem_seg.data.dtype == torch.long
        assert sample.pred_depth_map.data.shape == (1, 45, 55)
        normals = sample.pred_normals.data
        assert normals.shape == (3, 45, 55)
        assert torch.allclose(normals.norm(dim=0), torch.ones(45, 55),
                              atol=1e-4)
        for task in ('edge', 'saliency'):
            prob = sample.get_pred(task).data
            assert prob.min() >= 0 and prob.max() <= 1
        assert sample.gt_depth_map is not None  # ground truth kept


def test_postprocess_crops_padding_before_resizing():
    """A map equal to the column index survives padding crop + resize."""
    model = MODELS.build(tiny_model_cfg(tasks=['depth'])).eval()
    h, w, pad_w = 4, 6, 10
    column = torch.arange(pad_w, dtype=torch.float32).expand(1, 1, h, pad_w)
    sample = MultiTaskDataSample(metainfo=dict(
        ori_shape=(h, w), img_shape=(h, w), padding_size=[0, pad_w - w, 0,
                                                          0]))
    out = model.postprocess_result(dict(depth=column), [sample])[0]
    assert torch.equal(out.pred_depth_map.data[0],
                       torch.arange(w, dtype=torch.float32).expand(h, w))


def test_postprocess_flips_back_normals():
    model = MODELS.build(tiny_model_cfg(tasks=['normals'])).eval()
    normals = torch.zeros(1, 3, 2, 3)
    normals[:, 0, :, 0] = 1.0  # +x on the left column of the flipped image
    normals[:, 2] = -1.0
    sample = MultiTaskDataSample(metainfo=dict(
        ori_shape=(2, 3), img_shape=(2, 3), flip=True,
        flip_direction='horizontal'))
    out = model.postprocess_result(dict(normals=normals),
                                   [sample])[0].pred_normals.data
    # flipped back: the vector moved to the right column with x negated
    assert out[0, 0, 2] < 0 and out[0, 0, 0] == 0


def test_flip_tta_and_slide_inference_shapes():
    model = MODELS.build(
        tiny_model_cfg(test_cfg=dict(mode='slide', crop_size=(32, 32),
                                     stride=(16, 16), flip=True))).eval()
    data = model.data_preprocessor(random_batch(n=1, h=48, w=64), training=False)
    with torch.no_grad():
        sample = model.predict(data['inputs'], data['data_samples'])[0]
    assert sample.pred_depth_map.data.shape == (1, 48, 64)
    with pytest.raises(ValueError, match="'whole' or 'slide'"):
        model.test_cfg = dict(mode='tiles')
        model.predict(data['inputs'], data['data_samples'])


def test_forward_modes():
    model = MODELS.build(tiny_model_cfg()).eval()
    data = model.data_preprocessor(random_batch(n=1), training=False)
    raw = model(data['inputs'], data['data_samples'], mode='tensor')
    assert set(raw) == set(TASK_LIST)
    # 32x40 is padded to 32x64 (size_divisor 32); the head works at 1/4
    assert raw['semseg'].shape == (1, 4, 8, 16)
    assert raw['normals'].shape[1] == TASKS['normals'].channels
