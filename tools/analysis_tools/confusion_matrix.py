# Copyright (c) mmmtl contributors. All rights reserved.
"""Confusion matrix of a segmentation task (semseg, human_parts).

    python tools/test.py CONFIG CHECKPOINT --out work_dirs/preds
    python tools/analysis_tools/confusion_matrix.py CONFIG work_dirs/preds \\
        work_dirs/confusion [--task semseg]

Reads the predictions ``PRED_DIR/<task>/<stem>.png`` (class ids, as
``tools/test.py --out`` and ``tools/infer.py`` write them) and the ground
truth of the config's test dataset, and writes to ``SAVE_DIR``:

* ``confusion_matrix_<task>.npy``: (K, K) int64 pixel counts, row = ground
  truth class, column = predicted class (ignored pixels excluded);
* ``confusion_matrix_<task>.png``: the matrix normalised per row (recall
  per ground-truth class), in percent, with class names.
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Sequence

import matplotlib
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar
from PIL import Image

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mmmtl.structures import get_task  # noqa: E402


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int,
                     ignore_value: int = 255) -> np.ndarray:
    """(K, K) counts of (ground truth, prediction) pairs.

    Args:
        gt (np.ndarray): (H, W) ground-truth class ids.
        pred (np.ndarray): (H, W) predicted class ids.
        num_classes (int): K.
        ignore_value (int): Ground-truth value excluded from the counts.

    Returns:
        np.ndarray: int64 matrix, ``[i, j]`` = pixels of class ``i``
        predicted as ``j``. Predictions outside [0, K) are not counted.
    """
    if gt.shape != pred.shape:
        raise ValueError(f'ground truth {gt.shape} and prediction '
                         f'{pred.shape} differ in size')
    gt = gt.astype(np.int64).ravel()
    pred = pred.astype(np.int64).ravel()
    keep = (gt != ignore_value) & (gt >= 0) & (gt < num_classes) & \
        (pred >= 0) & (pred < num_classes)
    counts = np.bincount(num_classes * gt[keep] + pred[keep],
                         minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def read_prediction(path: str) -> np.ndarray:
    """Class ids of a prediction PNG (palette indices, not colours)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'prediction {path} not found: run '
                                'tools/test.py CONFIG CHECKPOINT --out '
                                'PRED_DIR first')
    return np.array(Image.open(path))


def plot_confusion_matrix(matrix: np.ndarray, names: Sequence[str],
                          out: str, title: str = 'Normalized confusion '
                          'matrix', cmap: str = 'viridis') -> None:
    """Save the row-normalised matrix (percent) as a PNG."""
    rows = matrix.sum(axis=1, keepdims=True)
    percent = 100.0 * matrix / np.maximum(rows, 1)
    k = len(names)
    size = max(4.0, 0.6 * k + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    image = ax.imshow(percent, cmap=cmap, vmin=0, vmax=100)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k), labels=names, rotation=45, ha='right')
    ax.set_yticks(range(k), labels=names)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth')
    ax.set_title(title)
    if k <= 30:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f'{percent[i, j]:.1f}', ha='center',
                        va='center', fontsize=7,
                        color='white' if percent[i, j] < 50 else 'black')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def accumulate(dataset, pred_dir: str, task: str, num_classes: int,
               progress: bool = True) -> np.ndarray:
    """Sum the confusion matrices of every sample of ``dataset``."""
    spec = get_task(task)
    total = np.zeros((num_classes, num_classes), np.int64)
    bar = ProgressBar(len(dataset)) if progress else None
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        gt = sample.get_gt(task)
        if gt is None:
            raise KeyError(f'the test dataset has no {task} ground truth; '
                           f'does the config load it?')
        stem = osp.splitext(osp.basename(sample.img_path))[0]
        pred = read_prediction(osp.join(pred_dir, task, f'{stem}.png'))
        total += confusion_matrix(gt.data[0].numpy(), pred, num_classes,
                                  int(spec.ignore_value))
        if bar is not None:
            bar.update()
    return total


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Confusion matrix of a segmentation task')
    parser.add_argument('config', help='config file (its test dataset)')
    parser.add_argument('prediction_path',
                        help='PRED_DIR of tools/test.py --out')
    parser.add_argument('save_dir', help='folder for the .npy and .png')
    parser.add_argument('--task', default='semseg',
                        help='discrete task: semseg or human_parts')
    parser.add_argument('--title', default=None)
    parser.add_argument('--color-theme', default='viridis',
                        help='matplotlib colour map')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> np.ndarray:
    args = parse_args(argv)
    spec = get_task(args.task)
    if not spec.is_discrete:
        raise ValueError(f'--task must be a segmentation task (semseg, '
                         f'human_parts), got {args.task!r}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    import mmmtl  # noqa: F401  (registers the datasets)
    from mmseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    names = list(dataset.metainfo.get(spec.classes_key) or [])
    if not names:
        raise KeyError(f'the dataset metainfo has no {spec.classes_key!r}')
    matrix = accumulate(dataset, args.prediction_path, args.task,
                        len(names))
    os.makedirs(args.save_dir, exist_ok=True)
    stem = osp.join(args.save_dir, f'confusion_matrix_{args.task}')
    np.save(stem + '.npy', matrix)
    plot_confusion_matrix(matrix, names, stem + '.png',
                          args.title or f'{args.task}: normalized confusion '
                          'matrix (%)', args.color_theme)
    print(f'\nwrote {stem}.npy and {stem}.png')  # noqa: T201
    return matrix


if __name__ == '__main__':
    main()
