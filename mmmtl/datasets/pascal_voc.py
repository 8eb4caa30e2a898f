# Copyright (c) mmmtl contributors. All rights reserved.
"""PASCAL VOC 2012 semantic segmentation (optionally with SBD "aug")."""
import os.path as osp
from typing import List, Optional

from mmseg.datasets.voc import PascalVOCDataset
from mmseg.registry import DATASETS

from .base_multitask_dataset import BaseMultiTaskDataset
from .utils import read_id_file, resolve_split_file


@DATASETS.register_module()
class PascalVOCMultiTaskDataset(BaseMultiTaskDataset):
    """PASCAL VOC 2012 semantic segmentation as a (one-task) dataset.

    The layout of the VOC devkit, as MMSegmentation's ``PascalVOCDataset``::

        data/VOCdevkit/VOC2012/
            JPEGImages/<id>.jpg
            SegmentationClass/<id>.png        palette PNG, 0..20, 255 ignore
            SegmentationClassAug/<id>.png     (optional) SBD "aug" labels,
                                              grey PNG, same values
            ImageSets/Segmentation/train.txt  1,464 ids
            ImageSets/Segmentation/val.txt    1,449 ids
            ImageSets/Segmentation/aug.txt    (optional) 10,582 train ids

    ``SegmentationClassAug`` and ``aug.txt`` are what MMSegmentation's
    ``tools/dataset_converters/voc_aug.py`` writes from SBD; the CompL VOC
    experiments train on the 10,582 "train_aug" images and evaluate on the
    1,449 val images.

    Labels are used as stored: classes 0..20 (0 = background, a class),
    255 (object borders and difficult regions) ignored. Palette PNGs are
    decoded to their indices, grey PNGs as they are.

    Args:
        data_root (str): The ``VOC2012`` folder.
        split (str): ``'train'``, ``'val'``, ``'trainval'`` or ``'aug'``
            (``ImageSets/Segmentation/<split>.txt``).
        ann_dir (str): Label folder: ``'SegmentationClass'`` or
            ``'SegmentationClassAug'``.
        split_file (str, optional): Another id list (relative to
            ``data_root`` or absolute).
        **kwargs: See :class:`BaseMultiTaskDataset` (``tasks`` must be
            ``['semseg']``; ``label_fraction``, ``pipeline``, ...).
    """
    # MMSegmentation's 21 classes (background = 0) and VOC colour map
    METAINFO = dict(
        tasks=('semseg', ),
        classes=PascalVOCDataset.METAINFO['classes'],
        palette=PascalVOCDataset.METAINFO['palette'])

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_dir: str = 'SegmentationClass',
                 split_file: Optional[str] = None,
                 **kwargs):
        self._set_split(split, split_file,
                        valid=('train', 'val', 'trainval', 'aug'))
        self.ann_dir = ann_dir
        super().__init__(data_root=data_root, **kwargs)

    def read_split(self) -> List[str]:
        """Ids of ``ImageSets/Segmentation/<split>.txt`` (or ``split_file``).
        """
        path = resolve_split_file(self.data_root, self.split_file) or \
            osp.join(self.data_root, 'ImageSets', 'Segmentation',
                     f'{self.split}.txt')
        return read_id_file(path, self.__class__.__name__)

    def sample_info(self, sample_id: str) -> dict:
        """Image and label paths of one sample."""
        return dict(
            img_path=osp.join(self.data_root, 'JPEGImages',
                              f'{sample_id}.jpg'),
            ann_info=dict(semseg=dict(path=osp.join(
                self.data_root, self.ann_dir, f'{sample_id}.png'))))
