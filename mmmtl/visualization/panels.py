# Copyright (c) mmmtl contributors. All rights reserved.
"""Colouring of task maps and multi-task panels (image, GT and prediction).

Colouring rules come from the task table: class maps use the dataset
palette, depth a perceptual colormap on a scale shared by ground truth and
prediction, normals the usual ``(n + 1) / 2`` RGB mapping, binary maps grey
levels. Invalid / ignored pixels are black.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmmtl.structures import TASKS, TaskSpec

RGB = Tuple[int, int, int]
_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Height of the title bar above each tile, in pixels.
TITLE_HEIGHT = 16


def default_palette(num_classes: int, seed: int = 0) -> List[RGB]:
    """A deterministic random palette for datasets that give none."""
    rng = np.random.default_rng(seed)
    return [tuple(int(v) for v in c)
            for c in rng.integers(40, 255, size=(num_classes, 3))]


def task_palette(spec: TaskSpec, metainfo: dict,
                 num_classes: int) -> List[RGB]:
    """The palette of a discrete task from metainfo, or a default one."""
    key = 'palette' if spec.classes_key == 'classes' else \
        f'{spec.name}_palette'
    palette = metainfo.get(key)
    if palette is None or len(palette) < num_classes:
        return default_palette(num_classes)
    return [tuple(int(v) for v in c) for c in palette]


def colorize_labels(labels: np.ndarray, palette: Sequence[RGB],
                    ignore_value: int = 255) -> np.ndarray:
    """(H, W) class ids -> (H, W, 3) uint8 RGB; ignore and unknown black."""
    lut = np.zeros((256, 3), np.uint8)
    lut[:len(palette)] = np.asarray(palette, np.uint8)[:256]
    ids = np.clip(labels.astype(np.int64), 0, 255)
    out = lut[ids]
    out[labels == ignore_value] = 0
    return out


def colorize_scalar(values: np.ndarray, valid: np.ndarray,
                    value_range: Tuple[float, float],
                    colormap: int = cv2.COLORMAP_VIRIDIS) -> np.ndarray:
    """(H, W) values -> (H, W, 3) RGB through ``colormap``; invalid black."""
    low, high = value_range
    scaled = (values - low) / max(high - low, 1e-6)
    scaled = np.clip(np.nan_to_num(scaled), 0, 1)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), colormap)
    rgb = bgr[..., ::-1].copy()
    rgb[~valid] = 0
    return rgb


def colorize_normals(normals: np.ndarray) -> np.ndarray:
    """(H, W, 3) unit vectors -> RGB ``(n + 1) / 2``; zero vectors black."""
    valid = np.any(normals != 0, axis=-1)
    rgb = ((np.clip(normals, -1, 1) + 1) * 127.5).astype(np.uint8)
    rgb[~valid] = 0
    return rgb


def colorize_task(array: np.ndarray, spec: TaskSpec, metainfo: dict,
                  value_range: Optional[Tuple[float, float]] = None,
                  num_classes: Optional[int] = None) -> np.ndarray:
    """Colour one task map (ground truth or prediction).

    Args:
        array (np.ndarray): (H, W) or (H, W, C) map (labels, probabilities
            or values).
        spec (TaskSpec): Its task.
        metainfo (dict): Dataset metainfo (palettes, class names).
        value_range (tuple[float, float], optional): Colour scale of
            continuous scalar maps (shared by GT and prediction).
        num_classes (int, optional): Class count of discrete tasks.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    if spec.is_discrete:
        count = num_classes or len(metainfo.get(spec.classes_key) or []) or \
            int(array[array != spec.ignore_value].max(initial=0)) + 1
        return colorize_labels(array, task_palette(spec, metainfo, count),
                               int(spec.ignore_value))
    if spec.unit_norm:
        return colorize_normals(array)
    if spec.is_binary:
        grey = np.where(array == spec.ignore_value, 0,
                        np.clip(array, 0, 1) * 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    valid = array != spec.ignore_value
    if value_range is None:
        value_range = valid_range(array, valid)
    return colorize_scalar(array, valid, value_range)


def valid_range(array: np.ndarray, valid: np.ndarray) -> Tuple[float, float]:
    """(2nd, 98th) percentile of the valid values (robust colour scale)."""
    if not valid.any():
        return 0.0, 1.0
    low, high = np.percentile(array[valid], [2, 98])
    return float(low), float(high)


def _fit_text(text: str, width: int, scales=(0.4, 0.35, 0.3)
              ) -> Tuple[str, float]:
    """The largest font scale at which ``text`` fits ``width`` pixels,
    truncating the text only if even the smallest scale is too wide."""
    for scale in scales:
        if cv2.getTextSize(text, _FONT, scale, 1)[0][0] <= width:
            return text, scale
    while len(text) > 1 and \
            cv2.getTextSize(text, _FONT, scales[-1], 1)[0][0] > width:
        text = text[:-1]
    return text, scales[-1]


def _titled(tile: np.ndarray, title: str) -> np.ndarray:
    """Tile with a title bar above it."""
    bar = np.full((TITLE_HEIGHT, tile.shape[1], 3), 255, np.uint8)
    text, scale = _fit_text(title, tile.shape[1] - 4)
    cv2.putText(bar, text, (2, 12), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, tile], axis=0)


def legend(names: Sequence[str], palette: Sequence[RGB],
           width: int) -> np.ndarray:
    """A strip of colour swatches with class names, ``width`` pixels wide."""
    per_row = max(1, width // 110)
    rows = -(-len(names) // per_row)
    strip = np.full((rows * 14 + 4, width, 3), 255, np.uint8)
    for i, (name, color) in enumerate(zip(names, palette)):
        x, y = (i % per_row) * 110 + 4, (i // per_row) * 14 + 4
        strip[y:y + 10, x:x + 10] = color
        cv2.putText(strip, str(name)[:14], (x + 14, y + 9), _FONT, 0.33,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def colorbar(title: str, value_range: Tuple[float, float], width: int,
             colormap: int = cv2.COLORMAP_VIRIDIS) -> np.ndarray:
    """A strip with ``title``, the low value, a colour gradient and the high
    value: the shared colour scale of a continuous task's tiles."""
    low, high = value_range
    strip = np.full((18, width, 3), 255, np.uint8)
    label = f'{title}: {low:.3g}'
    cv2.putText(strip, label, (4, 13), _FONT, 0.35, (0, 0, 0), 1,
                cv2.LINE_AA)
    x0 = 8 + 7 * len(label)
    x1 = max(x0 + 16, width - 60)
    if x1 <= width - 4:
        ramp = np.linspace(0, 255, x1 - x0).astype(np.uint8)[None]
        bgr = cv2.applyColorMap(ramp, colormap)[0]
        strip[4:14, x0:x1] = bgr[:, ::-1]
        cv2.putText(strip, f'{high:.3g}', (x1 + 4, 13), _FONT, 0.35,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def _to_hwc(data) -> np.ndarray:
    """(C, H, W) tensor/array -> (H, W) or (H, W, C) numpy."""
    array = data.detach().cpu().numpy() if hasattr(data, 'detach') else \
        np.asarray(data)
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def _fit(tile: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize a colour tile to (H, W) (nearest keeps label colours)."""
    if tile.shape[:2] == tuple(size):
        return tile
    return cv2.resize(tile, (size[1], size[0]),
                      interpolation=cv2.INTER_NEAREST)


def panel_size(image_size: Tuple[int, int], num_tasks: int, rows: int,
               legend_heights: Sequence[int] = ()) -> Tuple[int, int]:
    """(H, W) of a panel from :func:`draw_task_panel`.

    Args:
        image_size (tuple[int, int]): (H, W) of the image.
        num_tasks (int): Task columns.
        rows (int): 1 (only GT or only predictions) or 2 (both).
        legend_heights (Sequence[int]): Heights of the legend / colour-bar
            strips below the tiles.

    Returns:
        tuple[int, int]: Panel height and width.
    """
    h, w = image_size
    return (rows * (h + TITLE_HEIGHT) + int(sum(legend_heights)),
            w * (num_tasks + 1))



def draw_task_panel(image: np.ndarray, gts: Dict[str, object],
                    preds: Dict[str, object], metainfo: dict) -> np.ndarray:
    """Panel: the image, then a column per task with GT above prediction.

    With only ground truth (dataset browsing) or only predictions
    (inference) the panel has a single row. Continuous scalar tasks (depth)
    colour GT and prediction on one scale, taken from the ground truth (the
    prediction's when there is none) and shown as a colour bar below the
    tiles; discrete tasks get a legend of class colours and names.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB image.
        gts (dict[str, Tensor | ndarray]): task -> (C, H, W) ground truth.
        preds (dict[str, Tensor | ndarray]): task -> (C, H, W) prediction.
        metainfo (dict): Dataset metainfo (palettes, class names).

    Returns:
        np.ndarray: (H', W', 3) uint8 RGB panel with titles, legends and
        colour bars; its size is :func:`panel_size`.
    """
    size = image.shape[:2]
    tasks = [t for t in TASKS if t in gts or t in preds]
    blank = np.full((*size, 3), 255, np.uint8)
    rows = [(gts, 'GT'), (preds, 'pred')] if gts and preds else \
        [(gts, 'GT')] if gts else [(preds, 'pred')]
    grid = [[_titled(image if i == 0 else blank, 'image' if i == 0 else '')]
            for i in range(len(rows))]
    width = size[1] * (len(tasks) + 1)
    strips = []
    for task in tasks:
        spec = TASKS[task]
        gt = _to_hwc(gts[task]) if task in gts else None
        pred = _to_hwc(preds[task]) if task in preds else None
        value_range = None
        if spec.is_continuous and not spec.unit_norm:
            ref = gt if gt is not None else pred
            value_range = valid_range(ref, ref != spec.ignore_value)
            strips.append(colorbar(f'{task} scale', value_range, width))
        for cells, (maps, kind) in zip(grid, rows):
            array = gt if kind == 'GT' else pred
            tile = blank if array is None else _fit(
                colorize_task(array, spec, metainfo, value_range), size)
            cells.append(_titled(tile, f'{task} {kind}'))
        names = metainfo.get(spec.classes_key) if spec.is_discrete else None
        if names:
            strips.append(
                legend(names, task_palette(spec, metainfo, len(names)),
                       width=width))
    panel = np.concatenate([np.concatenate(c, axis=1) for c in grid], axis=0)
    return np.concatenate([panel, *strips], axis=0)
