# Copyright (c) mmmtl contributors. All rights reserved.
"""NYUv2 with 13 classes in the ``.npy`` layout of MTAN / LibMTL."""
import os
import os.path as osp
from typing import List, Optional

from mmseg.registry import DATASETS

from .base_multitask_dataset import BaseMultiTaskDataset
from .utils import make_palette, read_id_file, resolve_split_file

#: The 13 classes of Couprie et al. (2013) in MTAN's label order 0..12.
NYUV2_13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor',
                    'furniture', 'objects', 'picture', 'sofa', 'table', 'tv',
                    'wall', 'window')


def list_npy_ids(folder: str, owner: str) -> List[str]:
    """Sorted (numerically) stems of the ``*.npy`` files of ``folder``."""
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{owner}: folder {folder} not found; see '
            'docs/en/user_guides/dataset_prepare.md for the expected layout')
    stems = [name[:-4] for name in os.listdir(folder)
             if name.endswith('.npy')]
    if not stems:
        raise ValueError(f'{owner}: {folder} holds no .npy files')
    return sorted(stems, key=lambda s: (0, int(s)) if s.isdigit() else
                  (1, s))


class MTANLayoutDataset(BaseMultiTaskDataset):
    """Shared logic of the MTAN ``<root>/<split>/<modality>/<i>.npy`` layout.

    Subclasses set ``METAINFO`` and :attr:`ANNOTATIONS` (task -> folder and
    decoding options). Ids are the file stems of ``<split>/image``, sorted
    numerically (MTAN indexes ``0 .. n-1``).

    Args:
        data_root (str): Dataset root holding ``train/`` and ``val/``.
        split (str): ``'train'`` or ``'val'``.
        split_file (str, optional): Id list (relative to ``data_root`` or
            absolute) restricting the split, e.g. a label-fraction split.
        **kwargs: See :class:`BaseMultiTaskDataset`.
    """
    ANNOTATIONS: dict = {}

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_file: Optional[str] = None,
                 **kwargs):
        self._set_split(split, split_file)
        super().__init__(data_root=data_root, **kwargs)

    def read_split(self) -> List[str]:
        """Numerically sorted ids of ``<split>/image/*.npy``."""
        path = resolve_split_file(self.data_root, self.split_file)
        if path is not None:
            return read_id_file(path, self.__class__.__name__)
        return list_npy_ids(
            osp.join(self.data_root, self.split, 'image'),
            self.__class__.__name__)

    def sample_info(self, sample_id: str) -> dict:
        """Paths and decoding options of one sample."""
        base = osp.join(self.data_root, self.split)
        ann_info = {}
        for task, options in self.ANNOTATIONS.items():
            options = dict(options)
            folder = options.pop('folder')
            ann_info[task] = dict(
                path=osp.join(base, folder, f'{sample_id}.npy'), **options)
        return dict(img_path=osp.join(base, 'image', f'{sample_id}.npy'),
                    ann_info=ann_info)


@DATASETS.register_module()
class NYUv2MTANDataset(MTANLayoutDataset):
    """NYUv2-13 (795 train / 654 val, 288x384) as MTAN and LibMTL ship it.

    Layout (the CTAL paper's setting)::

        data/nyuv2/
            train/image/<i>.npy    float (288, 384, 3) RGB in [0, 1]
            train/label/<i>.npy    float (288, 384) classes 0..12, -1 ignore
            train/depth/<i>.npy    float (288, 384, 1) metres, 0 invalid
            train/normal/<i>.npy   float (288, 384, 3) unit, 0 invalid
            val/...                same, 654 samples

    Decoding: the image is scaled to [0, 255] float32 (so the usual ImageNet
    mean/std in 0..255 apply; MTAN feeds [0, 1] without normalisation);
    labels ``-1 -> 255``; depth in metres as stored (the trailing channel is
    dropped); normals as stored, zero vector = invalid (MTAN masks pixels
    whose components sum to 0), renormalised to unit length.

    Resizing (done by the pipeline): labels nearest; depth and normals
    bilinear over valid pixels (MTAN's random scale-crop resizes depth and
    normals bilinearly, labels nearest, and divides depth by the scale).

    Args: see :class:`MTANLayoutDataset`.
    """
    METAINFO = dict(
        tasks=('semseg', 'depth', 'normals'),
        classes=NYUV2_13_CLASSES,
        palette=make_palette(len(NYUV2_13_CLASSES), seed=2))

    ANNOTATIONS = dict(
        semseg=dict(folder='label', label_map={-1: 255}),
        depth=dict(folder='depth', encoding='float'),
        normals=dict(folder='normal', encoding='float', renormalize=True))
