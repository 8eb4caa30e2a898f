"""Checkpoint files that are not usable checkpoints fail naming the file;
weights load strictly unless a partial load is asked for; ``weights_only``
loading with an exact allow-list; atomic writes."""
import logging
import os
import os.path as osp
import signal
import subprocess
import sys
from argparse import Namespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub, MMLogger
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

from mmmtl.engine.hooks.safe_checkpoint_hook import (SafeCheckpointHook,
                                                     get_rng_state,
                                                     set_rng_state)
from mmmtl.utils.checkpoint_safety import (TMP_SUFFIX, CheckpointFormatError,
                                           CheckpointMismatchError,
                                           UnsafeCheckpointError,
                                           atomic_write_bytes,
                                           format_load_report,
                                           is_complete_checkpoint,
                                           load_from_local_safe,
                                           load_model_weights,
                                           model_state_dict,
                                           newest_complete_checkpoint,
                                           remove_stale_temp_files,
                                           resolve_auto_resume,
                                           safe_global_names)
from training_helpers import REPO


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


class _RunsCode:
    """Unpickling this calls ``os.mkdir(path)``: a stand-in for malware."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


def _training_checkpoint() -> dict:
    """What MMEngine's Runner writes: meta, weights, message hub (with
    HistoryBuffers and numpy values), optimizer and scheduler states."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optim.step()
    hub = MessageHub.get_instance('mmmtl_test_safe_checkpoint')
    for value in (1.5, np.float64(1.25), np.float32(0.5)):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('train/lr', 1e-3)
    hub.update_info('iter', 7)
    hub.update_info('keep_ckpt_ids', [4, 7])
    hub.update_info('scale', np.float64(0.5))
    return dict(
        meta=dict(iter=7, epoch=0, seed=0, cfg='x = 1',
                  dataset_meta=dict(classes=('a', 'b'),
                                    palette=[[0, 0, 0], [1, 2, 3]],
                                    weights=np.ones(2))),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict(),
        optimizer=optim.state_dict(),
        param_schedulers=[dict(last_step=7, by_epoch=False,
                               _last_lr=[1e-3])],
        rng_state=dict(world_size=1, states=[get_rng_state()]))


def test_training_checkpoint_loads_with_weights_only(tmp_path):
    checkpoint = _training_checkpoint()
    path = str(tmp_path / 'iter_7.pth')
    torch.save(checkpoint, path)
    for loaded in (_load_checkpoint(path), load_from_local_safe(path)):
        buffer = loaded['message_hub']['log_scalars']['train/loss']
        assert isinstance(buffer, HistoryBuffer)
        np.testing.assert_array_equal(buffer.data[0], [1.5, 1.25, 0.5])
        assert buffer.mean() == pytest.approx(13 / 12)
        info = loaded['message_hub']['runtime_info']
        assert info['keep_ckpt_ids'] == [4, 7] and info['scale'] == 0.5
        np.testing.assert_array_equal(
            loaded['meta']['dataset_meta']['weights'], [1, 1])
        for key, value in checkpoint['state_dict'].items():
            assert torch.equal(loaded['state_dict'][key], value)
        assert torch.equal(loaded['optimizer']['state'][0]['exp_avg'],
                           checkpoint['optimizer']['state'][0]['exp_avg'])
    # the loaded random state is usable
    set_rng_state(loaded['rng_state']['states'][0])
    expected = torch.rand(3)
    set_rng_state(loaded['rng_state']['states'][0])
    assert torch.equal(torch.rand(3), expected)


def test_allow_list_is_exact():
    dtypes = ['Bool', 'Int8', 'Int16', 'Int32', 'Int64', 'LongLong', 'UInt8',
              'UInt16', 'UInt32', 'UInt64', 'ULongLong', 'Float16', 'Float32',
              'Float64', 'LongDouble', 'Complex64', 'Complex128']
    assert sorted(safe_global_names()) == sorted([
        f'numpy.dtypes.{name}DType' for name in dtypes] + [
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype',
        'numpy._core.multiarray._reconstruct',
        'numpy.core.multiarray._reconstruct',
        'numpy._core.multiarray.scalar', 'numpy.core.multiarray.scalar'])


def test_code_running_checkpoint_is_refused(tmp_path, monkeypatch):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=nn.Linear(2, 2).state_dict(),
                    meta=_RunsCode(marker)), path)
    # even the variable that would switch the default off does not help
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    for load in (lambda: _load_checkpoint(path),
                 lambda: load_checkpoint(nn.Linear(2, 2), path)):
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        message = str(info.value)
        assert path in message
        assert 'posix.mkdir' in message
        assert not osp.exists(marker)


def test_unlisted_plain_class_is_refused_by_name(tmp_path):
    path = str(tmp_path / 'namespace.pth')
    torch.save(dict(state_dict={}, meta=Namespace(a=1)), path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r"namespace\.pth.*argparse\.Namespace"):
        _load_checkpoint(path)


class _GetattrReduce:
    """Pickles as ``getattr(target, name)``."""

    def __init__(self, target, name):
        self.target, self.name = target, name

    def __reduce__(self):
        return getattr, (self.target, self.name)


def test_getattr_only_resolves_history_buffer_statistics(tmp_path):
    path = str(tmp_path / 'walk.pth')
    torch.save(dict(meta=_GetattrReduce(HistoryBuffer, '__init__')), path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r"walk\.pth.*getattr\(<class 'mmengine.*"
                       r"HistoryBuffer'>, '__init__'\) in a checkpoint is "
                       'refused'):
        _load_checkpoint(path)
    torch.save(dict(meta=_GetattrReduce(HistoryBuffer, 'mean')), path)
    assert _load_checkpoint(path)['meta'] is HistoryBuffer.mean


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = str(tmp_path / 'iter_4.pth')
    atomic_write_bytes(b'old', target)

    def fail(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new' * 1000, target)
    with open(target, 'rb') as f:
        assert f.read() == b'old'
    assert os.listdir(tmp_path) == ['iter_4.pth']


def test_sigkill_during_write_leaves_old_file(tmp_path):
    """A real SIGKILL after the data was written, before the rename."""
    target = str(tmp_path / 'last_checkpoint')
    atomic_write_bytes(b'iter_4.pth', target)
    script = (
        'import importlib.util, os, signal, sys\n'
        'spec = importlib.util.spec_from_file_location("cs", sys.argv[1])\n'
        'cs = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(cs)\n'
        'os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n'
        'cs.atomic_write_bytes(b"iter_8.pth" * 100000, sys.argv[2])\n')
    proc = subprocess.run(
        [sys.executable, '-c', script,
         osp.join(REPO, 'mmmtl/utils/atomic_io.py'), target],
        timeout=120, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    with open(target, 'rb') as f:
        assert f.read() == b'iter_4.pth'
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(TMP_SUFFIX)]
    assert len(leftovers) == 1  # the unfinished write, never renamed
    assert remove_stale_temp_files(str(tmp_path)) == [
        str(tmp_path / leftovers[0])]
    assert os.listdir(tmp_path) == ['last_checkpoint']
