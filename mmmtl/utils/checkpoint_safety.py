# Copyright (c) mmmtl contributors. All rights reserved.
"""Safe checkpoints: allow-listed ``weights_only`` loading, atomic writing.

**Loading.**

PyTorch >= 2.6 loads checkpoints with ``weights_only=True`` by default: the
unpickler only rebuilds tensors, containers and primitive types, so a crafted
file cannot run code. MMEngine 0.10.7's training checkpoints also hold its
message hub (``mmengine.logging.HistoryBuffer`` objects with numpy arrays),
which the default allow-list refuses, so ``--resume`` fails.

This module fixes that without weakening the check:

* :data:`SAFE_CHECKPOINT_GLOBALS` names **exactly** the extra globals that
  MMEngine/mmmtl checkpoints contain (``HistoryBuffer``, numpy's array,
  dtype and scalar reconstructors, and ``builtins.getattr`` bound to
  :func:`history_buffer_statistic`, which only looks up HistoryBuffer's
  statistics methods). They are added with
  :func:`torch.serialization.add_safe_globals`; ``weights_only`` is never
  turned off and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is never consulted
  (the local loader passes ``weights_only=True`` explicitly, which that
  variable cannot override).
* MMEngine's loader of local files (``CheckpointLoader`` scheme ``''``, used
  by ``load_from``, ``--resume`` and ``load_checkpoint``) is replaced by
  :func:`load_from_local_safe`, which turns PyTorch's refusal into an
  :class:`UnsafeCheckpointError` naming the file and every global outside
  the allow-list.

Importing :mod:`mmmtl` installs both (see
:func:`install_safe_checkpoint_loading`).
Plugins whose checkpoint state holds another plain-data class can allow it
with :func:`register_safe_checkpoint_globals`; prefer storing plain types
(dicts, lists, numbers, strings, tensors, numpy arrays) instead.

**Writing.** :class:`AtomicLocalBackend` (MMEngine file backend
``'mmmtl_atomic_local'``) writes every file to a temporary name in the same
folder, flushes it to disk and renames it over the target, so a process
killed mid-write (even by SIGKILL) leaves either the old file or the complete
new one, never a truncated one. :class:`~mmmtl.engine.hooks.
SafeCheckpointHook` saves checkpoints and ``last_checkpoint`` through it.
"""
import logging
import os
import os.path as osp
import pickle
import re
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .atomic_io import (TMP_SUFFIX, atomic_write_bytes,  # noqa: F401
                        remove_stale_temp_files)

SafeGlobal = Union[Callable, Tuple[Callable, str]]

_INSTALLED = False


def _numpy_globals() -> List[SafeGlobal]:
    """numpy's pickling entry points under their numpy 2 and numpy 1 names.

    ``ndarray``/``dtype`` pickle through ``_reconstruct`` and numpy scalars
    (e.g. ``np.float64`` in the message hub) through ``scalar``. Checkpoints
    written with numpy 1.x name the module ``numpy.core.multiarray``, so both
    spellings are listed (same functions, two names). Unpickled dtypes are
    instances of per-type classes (``numpy.dtypes.Float64DType``, ...) that
    must be allowed too: the boolean, integer, float and complex ones, not
    the object dtype.
    """
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    entries: List[SafeGlobal] = [np.ndarray, np.dtype]
    numeric = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.intc,
               np.longlong, np.uint8, np.uint16, np.uint32, np.uint64,
               np.uintc, np.ulonglong, np.float16, np.float32, np.float64,
               np.longdouble, np.complex64, np.complex128)
    for dtype_class in (type(np.dtype(t)) for t in numeric):
        if dtype_class not in entries:
            entries.append(dtype_class)
    for func in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            entries.append((func, f'{module}.{func.__name__}'))
    return entries


def history_buffer_statistic(obj: Any, name: str) -> Callable:
    """What a checkpoint's ``builtins.getattr`` resolves to: nothing but
    ``HistoryBuffer``'s statistics methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods (``min``,
    ``max``, ``current``, ``mean``) as ``getattr(HistoryBuffer, 'min')``.
    The real ``getattr`` would let a crafted file walk from any allowed
    object to arbitrary attributes, so the name ``builtins.getattr`` is
    bound to this function instead, which refuses everything else.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    allowed = {'min', 'max', 'current', 'mean'} | {
        key for key, method in HistoryBuffer._statistics_methods.items()
        if getattr(HistoryBuffer, key, None) is method}
    if obj is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'getattr({obj!r}, {name!r}) in a checkpoint is refused: only '
            f'the HistoryBuffer statistics {sorted(allowed)} may be looked '
            'up')
    return getattr(HistoryBuffer, name)


#: Extra globals an MMEngine/mmmtl checkpoint may contain (beyond PyTorch's
#: defaults: tensors, ``OrderedDict``, builtins). Nothing else is accepted;
#: ``builtins.getattr`` is bound to :func:`history_buffer_statistic`.
SAFE_CHECKPOINT_GLOBALS: List[SafeGlobal] = [
    HistoryBuffer, (history_buffer_statistic, 'builtins.getattr')
] + _numpy_globals()


def safe_global_names() -> List[str]:
    """Qualified names of :data:`SAFE_CHECKPOINT_GLOBALS` (for messages)."""
    names = []
    for entry in SAFE_CHECKPOINT_GLOBALS:
        if isinstance(entry, tuple):
            names.append(entry[1])
        else:
            names.append(f'{entry.__module__}.{entry.__qualname__}')
    return names


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint pickles a global that is not on the allow-list."""


class CheckpointFormatError(ValueError):
    """A file is not a usable checkpoint (empty, not written by
    ``torch.save``, not a dict, or without weights)."""


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not match the model's keys or shapes."""


def register_safe_checkpoint_globals(globals_: Sequence[SafeGlobal]) -> None:
    """Allow more plain-data classes in checkpoints (for plugins).

    Only list classes whose unpickling cannot run code (no custom
    ``__reduce__``/``__setstate__`` side effects); never functions such as
    ``eval`` or ``os.system``.

    Args:
        globals_ (Sequence): Classes, or ``(object, 'module.qualname')``
            pairs for objects pickled under another name.
    """
    for entry in globals_:
        if entry not in SAFE_CHECKPOINT_GLOBALS:
            SAFE_CHECKPOINT_GLOBALS.append(entry)
    torch.serialization.add_safe_globals(list(globals_))


def _unsafe_globals(filename: str, message: str) -> List[str]:
    """Every global of ``filename`` outside the allow-list.

    Uses :func:`torch.serialization.get_unsafe_globals_in_checkpoint`, which
    reads the pickle's opcodes without executing them; falls back to the
    global named in PyTorch's message for legacy (non-zip) files.
    """
    allowed = set(safe_global_names())
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        names = [name for name in found if name not in allowed]
    except Exception:  # legacy format or unreadable: use the message
        names = []
    if not names:
        names = re.findall(r'GLOBAL ([\w.]+)', message)
    if not names:  # an instance of a class that is not allowed
        names = re.findall(r"but got <class '([\w.]+)'>", message)
    return [name for name in names if name not in allowed]


def _looks_like_torch_file(filename: str) -> bool:
    """Whether ``filename`` starts like a ``torch.save`` file: a zip archive
    (the default format) or a pickle (the legacy one, protocol >= 2)."""
    with open(filename, 'rb') as f:
        head = f.read(4)
    return head.startswith(b'PK\x03\x04') or head[:1] == b'\x80'


def load_from_local_safe(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """``torch.load(filename, weights_only=True)`` with a clear refusal.

    Registered as MMEngine's loader of local paths, so ``load_from``,
    ``--resume`` and :func:`mmengine.runner.load_checkpoint` use it.

    Args:
        filename (str): Local checkpoint path (``~`` is expanded).
        map_location: As in :func:`torch.load`.

    Returns:
        dict: The unpickled checkpoint.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file pickles a global outside
            :data:`SAFE_CHECKPOINT_GLOBALS`; nothing of it was executed.
        CheckpointFormatError: The file is empty, not written by
            ``torch.save`` (e.g. a text file) or holds something other
            than a dict (e.g. a list).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.getsize(filename) == 0:
        raise CheckpointFormatError(
            f'{filename} is empty (0 bytes): not a checkpoint (an '
            'interrupted copy or save?)')
    if not _looks_like_torch_file(filename):
        raise CheckpointFormatError(
            f'{filename} is not a PyTorch checkpoint written by torch.save '
            '(neither a zip archive nor a pickle; a text file?)')
    try:
        checkpoint = torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        names = _unsafe_globals(filename, str(err))
        if names:
            verb = 'is' if len(names) == 1 else 'are'
            what = (f'it pickles {names}, which {verb} not on mmmtl\'s '
                    'allow-list of checkpoint globals '
                    f'({safe_global_names()} besides tensors and builtin '
                    'containers)')
        else:
            match = re.search(r'WeightsUnpickler error:\s*(.*?)\s*(Check the '
                              r'documentation|$)', str(err), re.S)
            what = match.group(1) if match else str(err)
        raise UnsafeCheckpointError(
            f'{filename}: refusing to load this checkpoint: {what}. Loading '
            'it could run arbitrary code. If you wrote this file yourself '
            'and the class holds plain data only, allow it with '
            'mmmtl.utils.checkpoint_safety.register_safe_checkpoint_globals'
            '([...]).') from err
    except (EOFError, IndexError, KeyError, ValueError, RuntimeError,
            OSError) as err:  # what torch raises on files it cannot parse
        raise CheckpointFormatError(
            f'{filename} is not a PyTorch checkpoint written by torch.save '
            f'({type(err).__name__}: {err})') from err
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(
            f'{filename} holds a {type(checkpoint).__name__}; expected a '
            "dict: a runner checkpoint {'state_dict': ..., 'meta': ...} or "
            'a state dict of tensors')
    return checkpoint


def model_state_dict(checkpoint: dict,
                     filename: str) -> Dict[str, torch.Tensor]:
    """The model weights of a loaded checkpoint, with a clear error.

    Accepts a runner checkpoint (``{'state_dict': ..., 'meta': ...}``) or a
    bare state dict (every value a tensor, as ``torch.save(model.
    state_dict())`` writes). A ``module.`` prefix (DDP) is removed.

    Args:
        checkpoint (dict): What :func:`load_from_local_safe` returned.
        filename (str): The file, for messages.

    Returns:
        dict[str, Tensor]: Parameter/buffer name -> tensor.

    Raises:
        CheckpointFormatError: Not a dict, no ``state_dict`` (and not a bare
            state dict), or a ``state_dict`` with non-tensor values.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(
            f'{filename} holds a {type(checkpoint).__name__}; expected a '
            "dict with a 'state_dict'")
    if 'state_dict' in checkpoint:
        state = checkpoint['state_dict']
        where = f"{filename}: checkpoint['state_dict']"
    elif checkpoint and all(isinstance(v, torch.Tensor)
                            for v in checkpoint.values()):
        state, where = checkpoint, filename
    else:
        keys = sorted(str(k) for k in checkpoint)
        raise CheckpointFormatError(
            f"{filename} has no 'state_dict' entry (its top-level keys are "
            f'{keys[:20]}); expected a runner checkpoint '
            "{'state_dict': ..., 'meta': ...} or a state dict of tensors")
    if not isinstance(state, dict):
        raise CheckpointFormatError(f'{where} is a {type(state).__name__}; '
                                    'expected a dict of tensors')
    bad = [str(k) for k, v in state.items()
           if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointFormatError(
            f'{where} holds non-tensor values under {bad[:10]}; expected a '
            'dict of tensors')
    return {k[7:] if k.startswith('module.') else k: v
            for k, v in state.items()}


def _listed(names: Sequence[str], limit: int = 20) -> str:
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return f'{list(names[:limit])}{more}'


def load_model_weights(model: torch.nn.Module, checkpoint: dict,
                       filename: str, strict: bool = True
                       ) -> Dict[str, List[str]]:
    """Load a checkpoint's weights into ``model``, strictly by default.

    Args:
        model (nn.Module): The (unwrapped) model.
        checkpoint (dict): A loaded checkpoint (see :func:`model_state_dict`).
        filename (str): The file, for messages.
        strict (bool): Raise when a model key is missing from the
            checkpoint, the checkpoint has a key the model lacks, or a shape
            differs. With ``False`` the matching tensors are loaded and the
            others left as they are (a deliberate partial load).

    Returns:
        dict: ``missing``, ``unexpected`` and ``shape_mismatch`` key lists
        (all empty after a strict load).

    Raises:
        CheckpointMismatchError: ``strict`` and the keys or shapes differ;
            the message names them.
    """
    state = model_state_dict(checkpoint, filename)
    expected = model.state_dict()
    report = dict(
        missing=[k for k in expected if k not in state],
        unexpected=[k for k in state if k not in expected],
        shape_mismatch=[
            f'{k}: checkpoint {tuple(v.shape)}, model '
            f'{tuple(expected[k].shape)}' for k, v in state.items()
            if k in expected and v.shape != expected[k].shape])
    if strict and any(report.values()):
        parts = [f'{len(v)} {k.replace("_", " ")} keys {_listed(v)}'
                 for k, v in report.items() if v]
        raise CheckpointMismatchError(
            f'{filename} does not match the model ({type(model).__name__}, '
            f'{len(expected)} tensors): ' + '; '.join(parts) + '. Use the '
            'config the checkpoint was trained with; for a deliberate '
            'partial load pass --non-strict (tools/test.py) or strict=False '
            '(mmmtl.apis.init_model).')
    loadable = {k: v for k, v in state.items()
                if k in expected and v.shape == expected[k].shape}
    model.load_state_dict(loadable, strict=False)
    return report


def format_load_report(report: Dict[str, List[str]]) -> List[str]:
    """Lines listing every key of a non-strict load that was not loaded."""
    lines = []
    for kind, names in report.items():
        label = kind.replace('_', ' ')
        lines.append(f'{len(names)} {label} keys' + (':' if names else ''))
        lines += [f'  {name}' for name in names]
    return lines


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put``/``put_text``.

    Select it with ``backend_args=dict(backend='mmmtl_atomic_local')``.
    """

    def put(self, obj: bytes, filepath) -> None:
        """Write bytes atomically (see :func:`atomic_write_bytes`)."""
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        """Write text atomically (see :func:`atomic_write_bytes`)."""
        atomic_write_bytes(obj.encode(encoding), str(filepath))


#: Name of :class:`AtomicLocalBackend` in MMEngine's file backends.
ATOMIC_BACKEND = 'mmmtl_atomic_local'


def install_safe_checkpoint_loading() -> None:
    """Add the allow-list, route MMEngine's local loads through
    :func:`load_from_local_safe` and register :class:`AtomicLocalBackend`
    (idempotent; done on ``import mmmtl``)."""
    global _INSTALLED
    if _INSTALLED:
        return
    torch.serialization.add_safe_globals(list(SAFE_CHECKPOINT_GLOBALS))
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safe, force=True)
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
    _INSTALLED = True


install_safe_checkpoint_loading()


def load_runner_checkpoint(runner, filename: str,
                           strict: bool = True) -> Dict[str, List[str]]:
    """Load ``filename``'s weights into a runner's model (``tools/test.py``).

    What :meth:`mmengine.runner.Runner.load_checkpoint` does (hooks'
    ``after_load_checkpoint``, then the weights into the unwrapped model),
    but strict by default and with the checks of :func:`model_state_dict`.

    Args:
        runner (Runner): A built runner.
        filename (str): Checkpoint file.
        strict (bool): See :func:`load_model_weights`.

    Returns:
        dict: The report of :func:`load_model_weights`.
    """
    from mmengine.model import is_model_wrapper
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    HistoryBuffer()  # registers the statistics methods a checkpoint names
    checkpoint = load_from_local_safe(filename, map_location='cpu')
    model_state_dict(checkpoint, filename)  # format errors before hooks
    runner.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    report = load_model_weights(model, checkpoint, filename, strict=strict)
    runner.logger.info(f'Load checkpoint from {filename}')
    return report


_CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` zip archive (every member
    present and its CRC correct); reads the file, unpickles nothing."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def newest_complete_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``iter_N.pth``/``epoch_N.pth`` of ``work_dir``.

    Args:
        work_dir (str): A training work directory.

    Returns:
        str | None: The complete checkpoint with the largest ``N`` (files
        that fail :func:`is_complete_checkpoint` are passed over), or
        ``None``.
    """
    if not osp.isdir(work_dir):
        return None
    found = []
    for name in os.listdir(work_dir):
        match = _CHECKPOINT_NAME.match(name)
        if match:
            path = osp.join(work_dir, name)
            found.append((int(match.group(1)), osp.getmtime(path), path))
    for _, _, path in sorted(found, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None


def resolve_auto_resume(cfg) -> Optional[str]:
    """Make ``resume=True`` without a checkpoint path survive a missing
    ``last_checkpoint`` pointer.

    MMEngine resumes from the file named in ``<work_dir>/last_checkpoint``
    and silently starts from iteration 0 when it is absent (e.g. the job
    was killed after the first checkpoint was written but before the
    pointer was). Here, when the pointer is missing but a complete
    checkpoint exists, ``cfg.load_from`` is set to the newest complete one
    and a WARNING says so.

    Args:
        cfg (Config): The training config (``work_dir``, ``resume``,
            ``load_from``), changed in place.

    Returns:
        str | None: The checkpoint chosen here, if any.
    """
    from mmengine.logging import print_log
    if not cfg.get('resume') or cfg.get('load_from') or \
            not cfg.get('work_dir'):
        return None
    pointer = osp.join(cfg.work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        return None
    path = newest_complete_checkpoint(cfg.work_dir)
    if path is not None:
        cfg.load_from = path
        print_log(
            f'--resume: {pointer} does not exist (the run was probably '
            'interrupted between writing its first checkpoint and the '
            f'pointer); resuming from the newest complete checkpoint '
            f'{path}', logger='current', level=logging.WARNING)
    return path
