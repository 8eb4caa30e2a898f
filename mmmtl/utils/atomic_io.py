# Copyright (c) mmmtl contributors. All rights reserved.
"""Crash-safe file writing: temp file + fsync + rename (stdlib only)."""
import os
import os.path as osp
import tempfile
from typing import List

#: Suffix of the temporary files of :func:`atomic_write_bytes`.
TMP_SUFFIX = '.mmmtl-tmp'


def _fsync_dir(folder: str) -> None:
    """Flush a folder's entry table (makes a rename durable); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(data: bytes, filepath: str) -> None:
    """Write ``data`` to ``filepath`` via temp file + fsync + rename.

    The temporary file ``.<name>.<random>.mmmtl-tmp`` lives in the target's
    folder (a rename is only atomic within one file system) and is removed
    if writing fails with an exception.

    Args:
        data (bytes): Content.
        filepath (str): Target path; its folder is created if needed.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


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
