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
import os.path as osp
import pickle
import re
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

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


def load_from_local_safe(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """``torch.load(filename, weights_only=True)`` with a clear refusal.

    Registered as MMEngine's loader of local paths, so ``load_from``,
    ``--resume`` and :func:`mmengine.runner.load_checkpoint` use it.

    Args:
        filename (str): Local checkpoint path (``~`` is expanded).
        map_location: As in :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file pickles a global outside
            :data:`SAFE_CHECKPOINT_GLOBALS`; nothing of it was executed.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        return torch.load(
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
