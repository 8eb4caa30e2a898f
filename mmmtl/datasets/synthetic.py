# Copyright (c) mmmtl contributors. All rights reserved.
"""The embedded synthetic multi-task scene dataset."""
import json
import os
import os.path as osp
import time
from typing import List, Optional

from mmengine.dist import barrier, get_dist_info
from mmengine.logging import MMLogger
from mmseg.registry import DATASETS

from .base_multitask_dataset import BaseMultiTaskDataset
from .synthetic_generator import (HUMAN_PARTS_CLASSES, SEMSEG_CLASSES,
                                  generate_synthetic_dataset)

_SEMSEG_PALETTE = [[120, 120, 80], [180, 170, 150], [230, 230, 230],
                   [220, 60, 40], [40, 120, 220], [60, 190, 90]]
_PARTS_PALETTE = [[0, 0, 0], [250, 200, 40], [200, 90, 20], [150, 60, 200],
                  [80, 30, 140], [30, 200, 220], [20, 110, 130]]


@DATASETS.register_module()
class SyntheticMultiTaskDataset(BaseMultiTaskDataset):
    """Procedurally rendered rooms with exact labels for all six tasks.

    The data is produced by :mod:`mmmtl.datasets.synthetic_generator` (see its
    docstring for the folder layout and encodings) and read back through the
    same loaders as real data:

    ============  ==========================  ===============================
    task          file                        decoding
    ============  ==========================  ===============================
    image         ``images/<id>.png``         RGB
    semseg        ``semseg/<id>.png``         uint8 class ids (6 classes)
    depth         ``depth/<id>.png``          uint16 millimetres, 0 invalid
    normals       ``normals/<id>.png``        uint16 RGB, ``2v/65535 - 1``,
                                              (0, 0, 0) invalid
    edge          ``edge/<id>.png``           uint8 {0, 1}
    saliency      ``saliency/<id>.png``       uint8 {0, 255}, 255 positive
    human_parts   ``human_parts/<id>.png``    uint8 part ids (7 classes)
    ============  ==========================  ===============================

    Normals are in the OpenCV camera frame (x right, y down, z forward) and
    face the camera.

    Args:
        data_root (str): Dataset folder, e.g. ``data/synthetic``.
        split (str): ``'train'`` or ``'val'`` (``splits/<split>.txt``).
        generate_if_missing (bool): Generate the dataset when ``data_root``
            does not exist yet (logged). Existing data is never overwritten.
            Off by default, so that a mistyped ``data_root`` raises an error
            naming the path instead of silently generating a new dataset
            there (``make demo`` generates ``data/synthetic`` itself).
        generator_cfg (dict, optional): Keyword arguments of
            :func:`~mmmtl.datasets.synthetic_generator.
            generate_synthetic_dataset` (``num_train``, ``num_val``,
            ``height``, ``width``, ``seed``, ``num_workers``).
        **kwargs: See :class:`BaseMultiTaskDataset`.
    """
    METAINFO = dict(
        tasks=('semseg', 'depth', 'normals', 'edge', 'saliency',
               'human_parts'),
        classes=SEMSEG_CLASSES,
        palette=_SEMSEG_PALETTE,
        human_parts_classes=HUMAN_PARTS_CLASSES,
        human_parts_palette=_PARTS_PALETTE)

    #: Per-task file folder and declared encoding (see
    #: :class:`~mmmtl.structures.LabelEncoding`): a file that does not fit
    #: it is refused.
    ANNOTATIONS = dict(
        semseg=dict(folder='semseg'),
        depth=dict(folder='depth', encoding='uint16_mm'),
        normals=dict(folder='normals', encoding='uint16'),
        edge=dict(folder='edge', encoding='binary'),
        saliency=dict(folder='saliency', encoding='binary_255'),
        human_parts=dict(folder='human_parts'))

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 generate_if_missing: bool = False,
                 generator_cfg: Optional[dict] = None,
                 **kwargs):
        self._set_split(split)
        if generate_if_missing:
            ensure_synthetic_dataset(data_root, generator_cfg or {})
        elif not osp.exists(data_root):
            raise FileNotFoundError(missing_root_message(data_root,
                                                         generator_cfg))
        super().__init__(data_root=data_root, **kwargs)

    def read_split(self) -> List[str]:
        """Ids listed in ``splits/<split>.txt``."""
        path = osp.join(self.data_root, 'splits', f'{self.split}.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} not found: {self.data_root} is not a synthetic '
                'dataset folder (create one with tools/misc/'
                'generate_synthetic.py)')
        with open(path) as f:
            ids = [line.strip() for line in f if line.strip()]
        if not ids:
            raise ValueError(f'{self.__class__.__name__}: split file {path} '
                             'lists no samples; expected one sample id per '
                             'line')
        return ids

    def sample_info(self, sample_id: str) -> dict:
        """Paths and decoding options of one sample."""
        ann_info = {}
        for task, options in self.ANNOTATIONS.items():
            options = dict(options)
            folder = options.pop('folder')
            ann_info[task] = dict(
                path=osp.join(self.data_root, folder, f'{sample_id}.png'),
                **options)
        return dict(
            img_path=osp.join(self.data_root, 'images', f'{sample_id}.png'),
            ann_info=ann_info)


def missing_root_message(data_root: str,
                         generator_cfg: Optional[dict] = None) -> str:
    """What to do when the synthetic ``data_root`` does not exist."""
    sizes = ''
    cfg = generator_cfg or {}
    for key, flag in (('num_train', '--num-train'), ('num_val', '--num-val'),
                      ('height', '--height'), ('width', '--width'),
                      ('seed', '--seed')):
        if key in cfg:
            sizes += f' {flag} {cfg[key]}'
    return (f'synthetic dataset not found: data_root {data_root!r} does not '
            f'exist (absolute path {osp.abspath(data_root)}). Check the path '
            f'for a typo, or generate the dataset there with\n'
            f'    python tools/misc/generate_synthetic.py --out {data_root}'
            f'{sizes}\n(`make demo` generates data/synthetic), or set '
            f'generate_if_missing=True in the dataset config to generate it '
            f'on first use.')


def ensure_synthetic_dataset(data_root: str, generator_cfg: dict) -> None:
    """Generate the synthetic dataset at ``data_root`` if it is missing.

    Only rank 0 generates; other ranks wait at a barrier. A folder that exists
    is left alone (a folder without ``meta.json`` is reported, not replaced).

    Args:
        data_root (str): Dataset folder.
        generator_cfg (dict): Arguments of ``generate_synthetic_dataset``.
    """
    rank, world_size = get_dist_info()
    meta = osp.join(data_root, 'meta.json')
    if rank == 0 and not osp.exists(data_root):
        logger = MMLogger.get_current_instance()
        logger.info(f'Synthetic dataset not found at {data_root}: generating '
                    f'it with {generator_cfg or "default settings"} (this '
                    'happens once)')
        start = time.time()
        generate_synthetic_dataset(data_root, **generator_cfg)
        logger.info(f'Synthetic dataset written to {data_root} in '
                    f'{time.time() - start:.1f} s')
    if world_size > 1:
        barrier()
    if osp.isdir(data_root) and not osp.isfile(meta):
        raise FileNotFoundError(
            f'{data_root} exists but has no meta.json: it is not a synthetic '
            'dataset. Remove or rename it, or point data_root elsewhere.')
    if osp.isfile(meta):
        _check_generator_cfg(meta, generator_cfg)


def _check_generator_cfg(meta_path: str, generator_cfg: dict) -> None:
    """Warn when existing data was generated with other settings."""
    with open(meta_path) as f:
        meta = json.load(f)
    differ = {k: (meta[k], v) for k, v in generator_cfg.items()
              if k in meta and meta[k] != v}
    if differ:
        MMLogger.get_current_instance().warning(
            f'{os.path.dirname(meta_path)} was generated with other settings '
            f'(existing, requested): {differ}. It is used as is; regenerate '
            'with tools/misc/generate_synthetic.py --overwrite if needed.')
