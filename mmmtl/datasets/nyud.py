# Copyright (c) mmmtl contributors. All rights reserved.
"""NYUD-v2 in the layout of the multi-task dense-prediction toolbox."""
import os.path as osp
from typing import List, Optional

from mmseg.registry import DATASETS

from .base_multitask_dataset import BaseMultiTaskDataset
from .utils import make_palette, read_id_file, resolve_split_file

#: The 40 classes of Gupta et al. (2013) in label order 1..40 (0 = unlabelled
#: is ignored, so class ``i`` of the files becomes ``i - 1``).
NYUD_40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door',
    'window', 'bookshelf', 'picture', 'counter', 'blinds', 'desk',
    'shelves', 'curtain', 'dresser', 'pillow', 'mirror', 'floor mat',
    'clothes', 'ceiling', 'books', 'refridgerator', 'television', 'paper',
    'towel', 'shower curtain', 'box', 'whiteboard', 'person', 'night stand',
    'toilet', 'sink', 'lamp', 'bathtub', 'bag', 'otherstructure',
    'otherfurniture', 'otherprop')


@DATASETS.register_module()
class NYUDMultiTaskDataset(BaseMultiTaskDataset):
    """NYUD-v2 (795 train / 654 val) as distributed by the multi-task toolbox.

    This is the ``NYUD_MT`` folder of the MTI-Net / ATRC / InvPT / CCR /
    MT-CP family of code bases (see
    ``docs/en/user_guides/dataset_prepare.md``)::

        data/NYUD_MT/
            images/<id>.jpg          RGB, 480x640 (any size is accepted)
            segmentation/<id>.png    uint8 0..40, 0 = unlabelled
            depth/<id>.npy           float32 (H, W) metres, 0 = invalid
            normals/<id>.npy         float32 (H, W, 3) unit vectors,
                                     zero vector = invalid
            edge/<id>.npy            float32 (H, W) {0, 1}
            gt_sets/train.txt        795 ids
            gt_sets/val.txt          654 ids

    Decoding (identical to the toolbox's loader):

    ============  =======================================================
    task          canonical map
    ============  =======================================================
    semseg        ``0 -> 255`` (ignore), ``c -> c - 1``: 40 classes 0..39
    depth         metres as stored, ``0`` invalid (no scaling)
    normals       vectors as stored (the camera-frame axes of the
                  distributed files, unchanged), zero = invalid;
                  valid vectors are renormalised to unit length to absorb
                  float rounding (no effect on unit data)
    edge          ``{0, 1}`` as stored (the toolbox's NYUD edges are
                  already one pixel wide); no ignore pixels
    ============  =======================================================

    Resizing (done by the pipeline, not here): labels and edges nearest
    neighbour; depth and normals bilinear over valid pixels only (see
    :func:`~mmmtl.datasets.transforms.resize_valid`; the toolbox uses
    nearest for depth and bicubic for normals, without masking).

    Args:
        data_root (str): The ``NYUD_MT`` folder.
        split (str): ``'train'`` or ``'val'`` (``gt_sets/<split>.txt``).
        split_file (str, optional): Another id list (relative to
            ``data_root`` or absolute), e.g. a label-fraction split written
            by ``tools/misc/make_label_fraction_split.py``.
        **kwargs: See :class:`BaseMultiTaskDataset` (``tasks``,
            ``label_fraction``, ``pipeline``, ...).
    """
    METAINFO = dict(
        tasks=('semseg', 'depth', 'normals', 'edge'),
        classes=NYUD_40_CLASSES,
        palette=make_palette(len(NYUD_40_CLASSES)))

    #: Per-task folder, extension and decoding options (``encoding``: see
    #: :class:`~mmmtl.structures.LabelEncoding`).
    ANNOTATIONS = dict(
        semseg=dict(folder='segmentation', ext='.png', label_map={0: 255},
                    label_offset=-1),
        depth=dict(folder='depth', ext='.npy', encoding='float'),
        normals=dict(folder='normals', ext='.npy', encoding='float',
                     renormalize=True),
        edge=dict(folder='edge', ext='.npy', encoding='binary'))

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_file: Optional[str] = None,
                 **kwargs):
        self._set_split(split, split_file)
        super().__init__(data_root=data_root, **kwargs)

    def read_split(self) -> List[str]:
        """Ids of ``gt_sets/<split>.txt`` (or of ``split_file``)."""
        path = resolve_split_file(self.data_root, self.split_file) or \
            osp.join(self.data_root, 'gt_sets', f'{self.split}.txt')
        return read_id_file(path, self.__class__.__name__)

    def sample_info(self, sample_id: str) -> dict:
        """Paths and decoding options of one sample."""
        ann_info = {}
        for task, options in self.ANNOTATIONS.items():
            options = dict(options)
            folder, ext = options.pop('folder'), options.pop('ext')
            ann_info[task] = dict(
                path=osp.join(self.data_root, folder, sample_id + ext),
                **options)
        return dict(
            img_path=osp.join(self.data_root, 'images', f'{sample_id}.jpg'),
            ann_info=ann_info)
