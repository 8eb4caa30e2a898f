# Copyright (c) mmmtl contributors. All rights reserved.
"""Crash-safe file writing: temp file + fsync + rename (stdlib only)."""
import os
import os.path as osp
import tempfile
from typing import Callable, List, Optional

#: Suffix of the temporary files of :func:`atomic_write_bytes`.
TMP_SUFFIX = '.mmmtl-tmp'


def _fsync_file(path: str) -> None:
    """Flush a file's content to disk (errors propagate: a failed flush
    must not be followed by the rename)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: str) -> None:
    """Flush a folder's entry table (makes a rename durable); best effort."""
    try:
        _fsync_file(folder)
    except OSError:
        pass


def atomic_write(path: str, write: Callable[[str], None],
                 suffix: Optional[str] = None, durable: bool = False) -> None:
    """Write ``path`` through a temporary file in its folder, then rename.

    The temporary file ``.<name>.<random><suffix>`` lives in the target's
    folder (a rename is only atomic within one file system) and is removed
    if writing fails with an exception, so a crash never leaves a
    half-written ``path``.

    Args:
        path (str): Final file path; its folder is created if needed.
        write (Callable[[str], None]): Writes the content to the given
            temporary path.
        suffix (str, optional): Suffix of the temporary file; default the
            extension of ``path`` (writers such as OpenCV pick the format
            from it).
        durable (bool): Also ``fsync`` the file and the folder, so the new
            content survives a power loss, not only a killed process.
    """
    path = str(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.',
        suffix=osp.splitext(path)[1] if suffix is None else suffix)
    os.close(fd)
    try:
        write(tmp)
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    if durable:
        _fsync_dir(folder)


def atomic_write_bytes(data: bytes, filepath: str) -> None:
    """Write ``data`` to ``filepath`` durably and atomically.

    :func:`atomic_write` with ``durable=True`` and the temporary suffix
    :data:`TMP_SUFFIX`, which :func:`remove_stale_temp_files` recognises.

    Args:
        data (bytes): Content.
        filepath (str): Target path; its folder is created if needed.
    """
    def write(tmp: str) -> None:
        with open(tmp, 'wb') as f:
            f.write(data)

    atomic_write(filepath, write, suffix=TMP_SUFFIX, durable=True)


def remove_stale_temp_files(folder: str) -> List[str]:
    """Delete temporary files left in ``folder`` by a killed writer.

    Args:
        folder (str): Folder to clean (not recursive).

    Returns:
        list[str]: The removed paths.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        if name.startswith('.') and name.endswith(TMP_SUFFIX):
            path = osp.join(folder, name)
            try:
                os.remove(path)
                removed.append(path)
            except OSError:
                pass
    return removed
