"""CompL in the segmentor: inference untouched, joint training learns."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from mmmtl.models.segmentors.multitask_encoder_decoder import \
    MultiTaskEncoderDecoder  # noqa: F401
from mmmtl.models.ssl import DenseCLSSLHead  # noqa: F401
from mmmtl.testing import random_batch, tiny_model_cfg

TASKS = ['depth', 'semseg']
SSL = [
    dict(type='DenseCLSSLHead', name='densecl', head_task='depth',
         in_channels=8, hid_channels=8, out_channels=8, num_grid=2,
         negative_bank='memory_bank', bank_size=4, temperature=0.4,
         dense_weight=0.7),
    dict(type='RotationSSLHead', name='rot', in_channels=64),
]


def _batch(n=2, seed=0):
    torch.manual_seed(seed)
    batch = random_batch(n=n, tasks=TASKS)
    for i, sample in enumerate(batch['data_samples']):
        # view 1 is view 0 flipped: a learnable positive pair
        view = torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
        sample.ssl_views = torch.stack([view, view.flip(2)])
        sample.ssl_labels = torch.tensor([i % 4, i % 4])
        sample.set_metainfo(dict(ssl_index=i))
    return batch


def test_inference_and_parameters_identical_without_ssl_tasks():
    torch.manual_seed(0)
    bare = MODELS.build(tiny_model_cfg(tasks=TASKS)).eval()
    model = MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=SSL)).eval()
    missing, unexpected = model.load_state_dict(bare.state_dict(),
                                                strict=False)
    assert not unexpected
    assert missing and all(k.startswith('ssl_tasks.') for k in missing)
    assert set(model.deploy_state_dict()) == set(bare.state_dict())
    data = bare.data_preprocessor(random_batch(tasks=TASKS), training=False)
    with torch.no_grad():
        out_bare = bare.predict(data['inputs'], data['data_samples'])
        out_ssl = model.predict(data['inputs'], data['data_samples'])
    for a, b in zip(out_bare, out_ssl):
        assert torch.equal(a.pred_depth_map.data, b.pred_depth_map.data)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
    count = sum(p.numel() for p in bare.parameters())
    assert sum(p.numel() for p in model.parameters()) > count
    model.switch_to_deploy()
    assert sum(p.numel() for p in model.parameters()) == count
    assert set(model.state_dict()) == set(bare.state_dict())


def test_ssl_task_config_errors():
    with pytest.raises(ValueError, match="two tasks named 'rot'"):
        MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=[SSL[1], SSL[1]]))
    bad = dict(SSL[0], head_task='normals')
    with pytest.raises(ValueError, match="head_task='normals'"):
        MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=[bad]))
    # a registered module (with a loss_weight) that is no BaseSSLHead
    not_ssl = dict(type='BalancedBCELoss', loss_name='loss_rot')
    with pytest.raises(TypeError, match='not an SSL head .*BaseSSLHead'):
        MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=[not_ssl]))
    model = MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=SSL))
    data = model.data_preprocessor(random_batch(tasks=TASKS), training=True)
    with pytest.raises(KeyError, match='CompositeDataset'):
        model.loss(data['inputs'], data['data_samples'])


def test_preprocessor_normalises_ssl_views():
    model = MODELS.build(tiny_model_cfg(
        tasks=TASKS, ssl_tasks=SSL,
        data_preprocessor=dict(type='MultiTaskDataPreProcessor',
                               mean=[10, 20, 30], std=[2, 4, 8],
                               bgr_to_rgb=True, size_divisor=32)))
    batch = _batch()
    raw = batch['data_samples'][0].ssl_views.clone()
    data = model.data_preprocessor(batch, training=True)
    views = data['data_samples'][0].ssl_views
    assert views.dtype == torch.float32 and views.shape == (2, 3, 32, 32)
    mean = torch.tensor([10., 20., 30.]).view(3, 1, 1)
    std = torch.tensor([2., 4., 8.]).view(3, 1, 1)
    expected = (raw[:, [2, 1, 0]].float() - mean) / std
    assert torch.allclose(views, expected)


def test_joint_training_reduces_target_and_auxiliary_losses():
    torch.manual_seed(0)
    ssl = [dict(SSL[0], bank_size=8, momentum=0.9), SSL[1]]
    model = MODELS.build(tiny_model_cfg(tasks=TASKS, ssl_tasks=ssl))
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=5e-3))
    history = []
    for _ in range(15):  # the same batch each step
        log_vars = model.train_step(_batch(n=4), optim)
        history.append({k: float(v) for k, v in log_vars.items()})
    assert all(torch.isfinite(torch.tensor(h['loss'])) for h in history)

    def mean(key, part):
        return sum(h[key] for h in part) / len(part)

    for key in ('depth.unweighted', 'semseg.unweighted', 'ssl.rot.loss_rot'):
        assert mean(key, history[-3:]) < mean(key, history[:3]), key
    # the memory bank starts with random keys: after the first step it holds
    # real (harder) negatives, so compare from step 1 on
    for key in ('ssl.densecl.loss_single', 'ssl.densecl.loss_dense'):
        assert mean(key, history[-3:]) < mean(key, history[1:4]), key
    head = model.ssl_tasks['densecl']
    assert head.momentum_encoder.steps == 15
    # the momentum encoder follows the online network slowly
    online = model.backbone.stem[0].weight
    key = head.momentum_encoder.module['backbone'].stem[0].weight
    assert not torch.equal(online, key)
    assert not key.requires_grad


def test_groupnorm_backbone_with_pretrained_checkpoint_warns(monkeypatch):
    from mmmtl.models.segmentors import multitask_encoder_decoder as mod
    messages = []

    class Recorder:
        def warning(self, msg):
            messages.append(msg)

    monkeypatch.setattr(mod.MMLogger, 'get_current_instance',
                        staticmethod(lambda: Recorder()))
    gn = dict(type='GN', num_groups=4)
    mod.check_norm_and_pretrained(dict(norm_cfg=gn))
    mod.check_norm_and_pretrained(dict(
        norm_cfg=dict(type='BN'),
        init_cfg=dict(type='Pretrained', checkpoint='bn.pth')))
    assert messages == []
    mod.check_norm_and_pretrained(dict(
        norm_cfg=gn, init_cfg=dict(type='Pretrained', checkpoint='bn.pth')))
    assert len(messages) == 1 and 'not loadable into GN' in messages[0]
