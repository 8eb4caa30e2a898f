"""Checkpoint files that are not usable checkpoints fail naming the file;
weights load strictly unless a partial load is asked for."""
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import _load_checkpoint

from mmmtl.engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
from mmmtl.utils.checkpoint_safety import (CheckpointFormatError,
                                           CheckpointMismatchError,
                                           format_load_report,
                                           is_complete_checkpoint,
                                           load_from_local_safe,
                                           load_model_weights,
                                           model_state_dict,
                                           newest_complete_checkpoint,
                                           resolve_auto_resume)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))


@pytest.mark.parametrize('kind', ['empty', 'text', 'list'])
def test_unusable_files_are_named(tmp_path, kind):
    path = tmp_path / f'{kind}.pth'
    if kind == 'empty':
        path.write_bytes(b'')
        expected = r'is empty \(0 bytes\)'
    elif kind == 'text':
        path.write_text('iteration 1000\nloss 0.3\n')
        expected = 'is not a PyTorch checkpoint written by torch.save'
    else:
        torch.save([torch.zeros(2)], str(path))
        expected = 'holds a list; expected a dict'
    for load in (load_from_local_safe, _load_checkpoint):  # load_from path
        with pytest.raises(CheckpointFormatError) as info:
            load(str(path))
        assert str(path) in str(info.value)
        assert info.match(expected)


def test_state_dict_is_required_or_the_dict_is_one(tmp_path):
    net = _net()
    bare = model_state_dict(net.state_dict(), 'bare.pth')
    assert set(bare) == set(net.state_dict())
    ddp = model_state_dict({'state_dict': {'module.0.weight': torch.ones(1)}},
                           'ddp.pth')
    assert list(ddp) == ['0.weight']
    with pytest.raises(CheckpointFormatError,
                       match=r"x.pth has no 'state_dict' entry \(its "
                       r"top-level keys are \['meta', 'model'\]\)"):
        model_state_dict({'model': net.state_dict(), 'meta': {}}, 'x.pth')
    with pytest.raises(CheckpointFormatError,
                       match=r"y.pth: checkpoint\['state_dict'\] holds "
                       r"non-tensor values under \['a'\]"):
        model_state_dict({'state_dict': {'a': 1}}, 'y.pth')
    with pytest.raises(CheckpointFormatError, match='z.pth holds a list'):
        model_state_dict([1], 'z.pth')


def test_strict_load_names_missing_unexpected_and_shapes():
    source = _net().state_dict()
    source['2.weight'] = torch.zeros(1)  # a layer the model lacks
    del source['1.running_var']
    source['0.bias'] = torch.zeros(5)
    target = _net()
    target.apply(lambda m: isinstance(m, nn.Conv2d) and nn.init.zeros_(
        m.weight))
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as info:
        load_model_weights(target, {'state_dict': source}, 'lps.pth')
    message = str(info.value)
    assert "1 missing keys ['1.running_var']" in message
    assert "1 unexpected keys ['2.weight']" in message
    assert '0.bias: checkpoint (5,), model (4,)' in message
    assert message.startswith('lps.pth does not match the model')
    for key, value in target.state_dict().items():  # nothing was loaded
        assert torch.equal(value, before[key]), key

    report = load_model_weights(target, {'state_dict': source}, 'lps.pth',
                                strict=False)
    assert report['missing'] == ['1.running_var']
    assert report['unexpected'] == ['2.weight']
    assert torch.equal(target.state_dict()['0.weight'], source['0.weight'])
    assert torch.equal(target.state_dict()['0.bias'], before['0.bias'])
    lines = format_load_report(report)
    assert '1 missing keys:' in lines and '  1.running_var' in lines


def test_safe_checkpoint_hook_refuses_a_list():

    class _Runner:
        _load_from = 'work_dirs/x/list.pth'

    with pytest.raises(TypeError, match='work_dirs/x/list.pth holds a list'):
        SafeCheckpointHook(interval=1).after_load_checkpoint(_Runner(), [1])


def _save(path, step):
    torch.save({'state_dict': {'w': torch.full((4, ), float(step))},
                'meta': {'iter': step}}, str(path))


def test_newest_complete_checkpoint_skips_broken_files(tmp_path):
    assert newest_complete_checkpoint(str(tmp_path)) is None
    for step in (1, 2, 10):
        _save(tmp_path / f'iter_{step}.pth', step)
    data = (tmp_path / 'iter_10.pth').read_bytes()
    (tmp_path / 'iter_10.pth').write_bytes(data[:len(data) // 2])  # torn
    (tmp_path / 'iter_20.pth').write_text('not a checkpoint')
    _save(tmp_path / 'best_mIoU_iter_30.pth', 30)  # not a resume point
    assert not is_complete_checkpoint(str(tmp_path / 'iter_10.pth'))
    assert newest_complete_checkpoint(str(tmp_path)) == str(
        tmp_path / 'iter_2.pth')


def test_resume_without_pointer_uses_newest_complete_checkpoint(tmp_path):
    _save(tmp_path / 'iter_1.pth', 1)
    _save(tmp_path / 'iter_2.pth', 2)
    cfg = Config(dict(work_dir=str(tmp_path), resume=True, load_from=None))
    logger = MMLogger.get_instance('resume-warning', log_level='INFO')
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        assert resolve_auto_resume(cfg) == str(tmp_path / 'iter_2.pth')
    finally:
        logger.removeHandler(handler)
    assert cfg.load_from == str(tmp_path / 'iter_2.pth')
    (warning, ) = [r for r in records if r.levelno == logging.WARNING]
    assert 'last_checkpoint does not exist' in warning.getMessage()
    assert str(tmp_path / 'iter_2.pth') in warning.getMessage()
    # with the pointer (or an explicit checkpoint) MMEngine decides
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    pointed = Config(dict(work_dir=str(tmp_path), resume=True,
                          load_from=None))
    assert resolve_auto_resume(pointed) is None
    assert pointed.load_from is None
    explicit = Config(dict(work_dir=str(tmp_path), resume=True,
                           load_from='x.pth'))
    assert resolve_auto_resume(explicit) is None
