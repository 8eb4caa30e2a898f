"""weights_only checkpoint loading with an exact allow-list; atomic writes."""
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
from mmengine.logging import HistoryBuffer, MessageHub, MMLogger
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

from mmmtl.engine.hooks.safe_checkpoint_hook import (SafeCheckpointHook,
                                                     get_rng_state,
                                                     set_rng_state)
from mmmtl.utils.checkpoint_safety import (TMP_SUFFIX, UnsafeCheckpointError,
                                           atomic_write_bytes,
                                           load_from_local_safe,
                                           remove_stale_temp_files,
                                           safe_global_names)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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


class _FakeRunner:
    """What SafeCheckpointHook needs from a Runner."""

    def __init__(self, work_dir, fail_at=None):
        self.work_dir = work_dir
        self.message_hub = MessageHub.get_instance(f'fake-{work_dir}')
        self.fail_at = fail_at
        self.logger = MMLogger.get_current_instance()

    def save_checkpoint(self, out_dir, filename, *args, backend_args=None,
                        **kwargs):
        if filename == self.fail_at:
            raise OSError('killed while writing')
        from mmengine.fileio import get_file_backend
        backend = get_file_backend(out_dir, backend_args=backend_args)
        backend.put(filename.encode(), osp.join(out_dir, filename))


def test_old_checkpoint_is_deleted_only_after_new_one_is_complete(tmp_path):
    work_dir = str(tmp_path)
    hook = SafeCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1,
                              save_rng_state=False)
    runner = _FakeRunner(work_dir, fail_at='iter_2.pth')
    hook.before_train(runner)
    assert hook.atomic
    hook._save_checkpoint_with_step(runner, 1, dict(iter=1))
    with pytest.raises(OSError, match='killed'):
        hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    # MMEngine's hook would have deleted iter_1.pth before writing iter_2
    assert osp.isfile(tmp_path / 'iter_1.pth')
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(work_dir, 'iter_1.pth')
    runner.fail_at = None
    hook._save_checkpoint_with_step(runner, 3, dict(iter=3))
    assert sorted(os.listdir(tmp_path)) == ['iter_3.pth', 'last_checkpoint']
    assert runner.message_hub.get_info('keep_ckpt_ids') == [3]
