# Copyright (c) mmmtl contributors. All rights reserved.
"""Cityscapes (128x256) in the ``.npy`` layout of MTAN / LibMTL."""
from mmseg.registry import DATASETS

from .nyuv2_13 import MTANLayoutDataset
from .utils import make_palette

#: The 7 Cityscapes categories (void excluded) of MTAN's ``label_7``.
CITYSCAPES_7_CLASSES = ('flat', 'construction', 'object', 'nature', 'sky',
                        'human', 'vehicle')

#: The 19 Cityscapes train classes of ``label_19`` (trainId order).
CITYSCAPES_19_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence',
                         'pole', 'traffic light', 'traffic sign',
                         'vegetation', 'terrain', 'sky', 'person', 'rider',
                         'car', 'truck', 'bus', 'train', 'motorcycle',
                         'bicycle')

#: Official Cityscapes colours of the 19 train classes.
CITYSCAPES_19_PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70],
                         [102, 102, 156], [190, 153, 153], [153, 153, 153],
                         [250, 170, 30], [220, 220, 0], [107, 142, 35],
                         [152, 251, 152], [70, 130, 180], [220, 20, 60],
                         [255, 0, 0], [0, 0, 142], [0, 0, 70],
                         [0, 60, 100], [0, 80, 100], [0, 0, 230],
                         [119, 11, 32]]


@DATASETS.register_module()
class CityscapesMTANDataset(MTANLayoutDataset):
    """Cityscapes (2975 train / 500 val, 128x256) as MTAN and LibMTL ship it.

    Layout (the CTAL paper's setting)::

        data/cityscapes/
            train/image/<i>.npy      float (128, 256, 3) RGB in [0, 1]
            train/label_7/<i>.npy    float (128, 256) 0..6, -1 ignore
            train/label_19/<i>.npy   float (128, 256) 0..18, -1 ignore
            train/depth/<i>.npy      float (128, 256, 1) disparity (inverse
                                     depth) as distributed, 0 invalid
            val/...                  same, 500 samples

    Decoding: the image is scaled to [0, 255] float32; labels ``-1 -> 255``;
    depth kept as the distributed disparity-like values (not converted to
    metres; metrics are computed on these values as in MTAN/CTAL), trailing
    channel dropped, 0 invalid.

    Resizing (done by the pipeline): labels nearest; depth bilinear over
    valid pixels.

    Args:
        num_classes (int): 7 (``label_7``, default, the CTAL/MTAN setting)
            or 19 (``label_19``).
        **kwargs: See :class:`~mmmtl.datasets.nyuv2_13.MTANLayoutDataset`.
    """
    METAINFO = dict(
        tasks=('semseg', 'depth'),
        classes=CITYSCAPES_7_CLASSES,
        palette=make_palette(len(CITYSCAPES_7_CLASSES), seed=3))

    @classmethod
    def metainfo_from_config(cls, dataset_cfg: dict) -> dict:
        """Metainfo of a config: the 19 train classes with
        ``num_classes=19``, else :attr:`METAINFO` (see
        :meth:`BaseMultiTaskDataset.metainfo_from_config`)."""
        meta = dict(cls.METAINFO)
        if dataset_cfg.get('num_classes', 7) == 19:
            meta.update(classes=CITYSCAPES_19_CLASSES,
                        palette=CITYSCAPES_19_PALETTE)
        meta.update(dataset_cfg.get('metainfo') or {})
        return meta

    def __init__(self, num_classes: int = 7, **kwargs):
        if num_classes not in (7, 19):
            raise ValueError('CityscapesMTANDataset: num_classes must be 7 '
                             f'(label_7) or 19 (label_19), got '
                             f'{num_classes!r}')
        self.num_semseg_classes = num_classes
        self.ANNOTATIONS = dict(
            semseg=dict(folder=f'label_{num_classes}', label_map={-1: 255}),
            depth=dict(folder='depth', encoding='float'))
        if num_classes == 19:
            metainfo = dict(kwargs.pop('metainfo', None) or {})
            metainfo.setdefault('classes', CITYSCAPES_19_CLASSES)
            metainfo.setdefault('palette', CITYSCAPES_19_PALETTE)
            kwargs['metainfo'] = metainfo
        super().__init__(**kwargs)
