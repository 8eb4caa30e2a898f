# Copyright (c) mmmtl contributors. All rights reserved.
"""Write per-task predictions in standard file formats, atomically.

==============  ==========================================================
task kind        files under ``<out_dir>/<task>/``
==============  ==========================================================
discrete         ``<stem>.png``: 8-bit palette PNG of class ids
depth            ``<stem>.png``: 16-bit PNG, millimetres (value = metres x
                 1000, clipped to 65535); ``<stem>.npy``: float32 metres
normals          ``<stem>.png``: RGB, ``(n + 1) / 2 * 255``
binary           ``<stem>.png``: 8-bit probability x 255
panel            ``<out_dir>/panels/<stem>.png`` (inference): RGB panel
==============  ==========================================================

Reading them back (NumPy / OpenCV)::

    labels = np.array(Image.open('semseg/x.png'))  # PIL: palette indices
    depth = cv2.imread('depth/x.png', cv2.IMREAD_UNCHANGED) / 1000.0  # m
    depth = np.load('depth/x.npy')                             # exact, m
    n = cv2.imread('normals/x.png')[..., ::-1] / 127.5 - 1      # (H, W, 3)
    prob = cv2.imread('saliency/x.png', cv2.IMREAD_UNCHANGED) / 255.0

Every file is written to a temporary file in the same folder and renamed,
so an interrupted run never leaves a truncated file.
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from PIL import Image

from mmmtl.structures import TASKS, MultiTaskDataSample, TaskSpec
from .atomic_io import atomic_write

#: Multiplier from metres to the 16-bit depth PNG's integer values.
DEPTH_PNG_SCALE = 1000.0


def _save_png(array: np.ndarray, path: str,
              palette: Optional[List] = None) -> None:
    def write(tmp: str) -> None:
        image = Image.fromarray(array)
        if palette is not None:
            image = image.convert('P')
            flat = np.zeros((256, 3), np.uint8)
            flat[:len(palette)] = np.asarray(palette, np.uint8)[:256]
            image.putpalette(flat.flatten().tolist())
        image.save(tmp, format='PNG')
    atomic_write(path, write)


def _save_npy(array: np.ndarray, path: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, 'wb') as f:
            np.save(f, array)
    atomic_write(path, write)


def save_panel(panel: np.ndarray, path: str) -> str:
    """Write an (H, W, 3) uint8 RGB panel as a PNG, atomically.

    Args:
        panel (np.ndarray): RGB image.
        path (str): Target ``.png`` file.

    Returns:
        str: ``path``.
    """
    _save_png(np.ascontiguousarray(panel, dtype=np.uint8), path)
    return path


def save_task_prediction(pred: np.ndarray, spec: TaskSpec, stem: str,
                         out_dir: str, palette: Optional[List] = None
                         ) -> List[str]:
    """Save one task's prediction of one image.

    Args:
        pred (np.ndarray): (C, H, W) prediction (as in ``pred_*`` fields).
        spec (TaskSpec): Its task.
        stem (str): File name without extension.
        out_dir (str): Root folder; files go to ``out_dir/<task>/``.
        palette (list, optional): Class colours of a discrete task.

    Returns:
        list[str]: Written files.
    """
    base = osp.join(out_dir, spec.name, stem)
    if spec.is_discrete:
        _save_png(pred[0].astype(np.uint8), base + '.png', palette)
        return [base + '.png']
    if spec.unit_norm:
        rgb = ((np.clip(pred.transpose(1, 2, 0), -1, 1) + 1) * 127.5)
        _save_png(np.round(rgb).astype(np.uint8), base + '.png')
        return [base + '.png']
    if spec.is_binary:
        _save_png(np.round(np.clip(pred[0], 0, 1) * 255).astype(np.uint8),
                  base + '.png')
        return [base + '.png']
    scaled = np.clip(np.round(pred[0] * DEPTH_PNG_SCALE), 0, 65535)
    _save_png(scaled.astype(np.uint16), base + '.png')
    _save_npy(pred[0].astype(np.float32), base + '.npy')
    return [base + '.png', base + '.npy']


def save_predictions(sample: MultiTaskDataSample, out_dir: str,
                     metainfo: Optional[Dict] = None,
                     stem: Optional[str] = None) -> List[str]:
    """Save every task prediction of a sample (see the module docstring).

    Args:
        sample (MultiTaskDataSample): Sample with ``pred_*`` fields.
        out_dir (str): Output root.
        metainfo (dict, optional): Dataset metainfo, for palettes.
        stem (str, optional): File name stem (default: the image's).

    Returns:
        list[str]: Written files.
    """
    metainfo = metainfo or {}
    stem = stem or osp.splitext(osp.basename(sample.img_path))[0]
    written = []
    for spec in TASKS.values():
        pred = sample.get(spec.pred_field)
        if pred is None:
            continue
        palette = None
        if spec.is_discrete:
            key = 'palette' if spec.classes_key == 'classes' else \
                f'{spec.name}_palette'
            palette = metainfo.get(key)
        written += save_task_prediction(pred.data.cpu().numpy(), spec, stem,
                                        out_dir, palette)
    return written
