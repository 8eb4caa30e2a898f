# Copyright (c) mmmtl contributors. All rights reserved.
"""PASCAL-Context multi-task (``PASCAL_MT``) in the toolbox layout."""
import functools
import os.path as osp
from typing import Iterable, List, Optional

from mmseg.registry import DATASETS

from .base_multitask_dataset import BaseMultiTaskDataset
from .transforms.pascal_annotations import (HUMAN_PARTS_CLASSES,
                                            NORMALS_VALID_CONTEXT_CLASSES,
                                            parse_human_parts,
                                            parse_label_map_edges,
                                            parse_masked_normals)
from .utils import make_palette, read_id_file, resolve_split_file

#: The 21 semantic classes (VOC names; background is class 0).
PASCAL_CONTEXT_MT_CLASSES = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
    'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
    'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
    'tvmonitor')

_PARTS_PALETTE = [[0, 0, 0], [250, 200, 40], [200, 90, 20], [150, 60, 200],
                  [80, 30, 140], [30, 200, 220], [20, 110, 130]]


@DATASETS.register_module()
class PascalContextMultiTaskDataset(BaseMultiTaskDataset):
    """PASCAL-Context (4998 train / 5105 val) for five tasks.

    The ``PASCAL_MT`` folder of the multi-task toolbox (MTI-Net, ATRC,
    InvPT, CCR, MT-CP; see ``docs/en/user_guides/dataset_prepare.md``)::

        data/PASCAL_MT/
            JPEGImages/<id>.jpg
            ImageSets/Context/train.txt       4998 ids
            ImageSets/Context/val.txt         5105 ids
            semseg/VOC12/<id>.png             (read first when present)
            semseg/pascal-context/<id>.png    uint8, 21 classes, 255 void
            human_parts/<id>.mat              PASCAL-Part ``anno`` struct
            sal_distill/<id>.png              uint8 grey saliency
            normals_distill/<id>.png          uint8 RGB normals
            pascal-context/trainval/<id>.mat  ``LabelMap`` (459 classes)

    Decoding (as the toolbox's loader does):

    ===========  ==========================================================
    task         canonical map
    ===========  ==========================================================
    semseg       values as stored: 0 background, 1..20 VOC classes,
                 255 void (ignored)
    human_parts  person parts grouped into 6 parts + background (7
                 classes, see :data:`~mmmtl.datasets.transforms.
                 pascal_annotations.HUMAN_PARTS_GROUPING`); images with no
                 person having parts are all ``human_parts_no_person``
                 (255 = ignore by default, see :func:`~mmmtl.datasets.
                 transforms.pascal_annotations.parse_human_parts`)
    saliency     ``v / 255 > 0.5`` -> 1, else 0
    normals      ``n = 2 v / 255 - 1`` per channel (RGB = xyz), kept only
                 on the 170 ``LabelMap`` classes shared with NYUD plus
                 ``tvmonitor``, zero (invalid) elsewhere; valid vectors
                 renormalised to unit length (8-bit rounding leaves
                 ``| |n| - 1 |`` up to ~0.007; angles are unchanged)
    edge         ``thin(|Laplacian(LabelMap)| > 0)`` (OpenCV 4-neighbour
                 Laplacian, Guo-Hall thinning), ``{0, 1}``
    ===========  ==========================================================

    Resizing (done by the pipeline): label maps, saliency and edges nearest
    neighbour; normals bilinear over valid pixels, renormalised (the toolbox
    uses bicubic without masking).

    Args:
        data_root (str): The ``PASCAL_MT`` folder.
        split (str): ``'train'`` or ``'val'``
            (``ImageSets/Context/<split>.txt``).
        split_file (str, optional): Another id list (relative to
            ``data_root`` or absolute).
        human_parts_no_person (int): Label of every pixel of images without
            person parts: 255 (ignored, default) or 0 (background, as the
            toolbox trains).
        normals_valid_classes (Iterable[int], optional): ``LabelMap`` values
            on which normals are valid; the NYU-compatible list by default.
        **kwargs: See :class:`BaseMultiTaskDataset`.
    """
    METAINFO = dict(
        tasks=('semseg', 'human_parts', 'saliency', 'normals', 'edge'),
        classes=PASCAL_CONTEXT_MT_CLASSES,
        palette=make_palette(len(PASCAL_CONTEXT_MT_CLASSES), seed=1),
        human_parts_classes=HUMAN_PARTS_CLASSES,
        human_parts_palette=_PARTS_PALETTE)

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 split_file: Optional[str] = None,
                 human_parts_no_person: int = 255,
                 normals_valid_classes: Optional[Iterable[int]] = None,
                 **kwargs):
        self._set_split(split, split_file)
        if human_parts_no_person not in (0, 255):
            raise ValueError(
                'PascalContextMultiTaskDataset: human_parts_no_person must '
                f'be 255 (ignore) or 0 (background), got '
                f'{human_parts_no_person!r}')
        self.human_parts_no_person = human_parts_no_person
        self.normals_valid_classes = tuple(
            sorted(NORMALS_VALID_CONTEXT_CLASSES)
            if normals_valid_classes is None else
            sorted(int(c) for c in normals_valid_classes))
        super().__init__(data_root=data_root, **kwargs)

    def read_split(self) -> List[str]:
        """Ids of ``ImageSets/Context/<split>.txt`` (or ``split_file``)."""
        path = resolve_split_file(self.data_root, self.split_file) or \
            osp.join(self.data_root, 'ImageSets', 'Context',
                     f'{self.split}.txt')
        return read_id_file(path, self.__class__.__name__)

    def _semseg_path(self, sample_id: str) -> str:
        voc = osp.join(self.data_root, 'semseg', 'VOC12', f'{sample_id}.png')
        if osp.isfile(voc):
            return voc
        return osp.join(self.data_root, 'semseg', 'pascal-context',
                        f'{sample_id}.png')

    def sample_info(self, sample_id: str) -> dict:
        """Paths and decoding options of one sample."""
        root = self.data_root
        img_path = osp.join(root, 'JPEGImages', f'{sample_id}.jpg')
        context_mat = osp.join(root, 'pascal-context', 'trainval',
                               f'{sample_id}.mat')
        parts_mat = osp.join(root, 'human_parts', f'{sample_id}.mat')
        ann_info = dict(
            semseg=dict(path=self._semseg_path(sample_id)),
            human_parts=dict(
                path=parts_mat,
                parser=functools.partial(
                    parse_human_parts, path=parts_mat, img_path=img_path,
                    no_person_value=self.human_parts_no_person)),
            saliency=dict(
                path=osp.join(root, 'sal_distill', f'{sample_id}.png'),
                encoding='grey'),
            normals=dict(
                path=context_mat,
                parser=functools.partial(
                    parse_masked_normals,
                    normals_path=osp.join(root, 'normals_distill',
                                          f'{sample_id}.png'),
                    path=context_mat,
                    valid_classes=self.normals_valid_classes),
                encoding='float', renormalize=True),
            edge=dict(
                path=context_mat,
                parser=functools.partial(parse_label_map_edges,
                                         path=context_mat)))
        return dict(img_path=img_path, ann_info=ann_info)
