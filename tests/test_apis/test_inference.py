"""init_model loads checkpoints strictly: a checkpoint of another model, one
without weights or of the wrong type is an error naming it."""
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mmmtl.apis import init_model
from mmmtl.testing import tiny_model_cfg
from mmmtl.utils.checkpoint_safety import (CheckpointFormatError,
                                           CheckpointMismatchError)


@pytest.fixture(scope='module')
def hps(tmp_path_factory):
    """(config path, its weights) of a tiny HPS model."""
    root = tmp_path_factory.mktemp('strict')
    cfg_path = str(root / 'hps.py')
    Config(dict(default_scope='mmseg', model=tiny_model_cfg())).dump(cfg_path)
    torch.manual_seed(0)
    return cfg_path, MODELS.build(tiny_model_cfg()).state_dict()


def test_checkpoint_of_another_model_is_refused(hps, tmp_path):
    cfg_path, state = hps
    two_tasks = tiny_model_cfg(tasks=('semseg', 'depth'))
    other = MODELS.build(two_tasks).state_dict()
    other['decode_head.extra.weight'] = torch.zeros(1)
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': other}, path)
    with pytest.raises(CheckpointMismatchError) as info:
        init_model(cfg_path, path)
    message = str(info.value)
    assert path in message
    assert 'missing keys' in message and 'normals' in message
    assert "unexpected keys ['decode_head.extra.weight']" in message
    model = init_model(cfg_path, path, strict=False)  # deliberate
    key = 'backbone.stem.0.weight'
    assert torch.equal(model.state_dict()[key], other[key])


@pytest.mark.parametrize('content,expected', [
    ({'meta': {'iter': 3}}, "has no 'state_dict' entry"),
    ([1, 2], 'holds a list'),
])
def test_checkpoint_without_weights_is_refused(hps, tmp_path, content,
                                               expected):
    cfg_path, _ = hps
    path = str(tmp_path / 'bad.pth')
    torch.save(content, path)
    with pytest.raises(CheckpointFormatError, match=expected) as info:
        init_model(cfg_path, path)
    assert path in str(info.value)


def test_matching_checkpoint_loads(hps, tmp_path):
    cfg_path, state = hps
    path = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': state, 'meta': {}}, path)
    model = init_model(cfg_path, path)
    for key, value in state.items():
        assert torch.equal(model.state_dict()[key], value), key
