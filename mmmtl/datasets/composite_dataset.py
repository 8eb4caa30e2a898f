# Copyright (c) mmmtl contributors. All rights reserved.
"""Target samples paired with independently drawn auxiliary images (CompL)."""
import copy
import math
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CompositeDataset:
    """Yield each target sample together with an auxiliary image's views.

    CompL (Kanakis et al., WACV 2023) builds every mini-batch from two
    independent draws: labelled images of the target task(s) with the
    baseline augmentations, and the same number of auxiliary images with
    the self-supervised task's stronger augmentations. This wrapper realises
    that with one dataloader, so the runner, samplers and DDP sharding stay
    standard:

    * ``dataset`` is the target set (its own pipeline; e.g. with
      ``label_fraction=0.1`` for the paper's label-fraction protocol);
    * the auxiliary set is ``aux_dataset`` or, by default, ``dataset``'s
      config with ``label_fraction`` removed (the auxiliary task always uses
      *all* images) and ``pipeline=aux_pipeline``. The auxiliary pipeline
      loads the image, makes its views (e.g.
      ``mmpretrain.MultiView(num_views=2)`` over a random-resized-crop /
      colour-jitter / grayscale / blur / flip view pipeline, or a square
      crop + ``RandomRotate90`` for rotation) and ends with
      :class:`~mmmtl.datasets.transforms.ssl_views.PackSSLViews`;
    * index ``i`` of the wrapper is target sample ``i % n_t`` paired with
      auxiliary image ``perm[i] % n_a``, where ``perm`` is a permutation of
      ``range(len(self))`` drawn once from ``seed``. The length is
      ``n_t * ceil(n_a / n_t)`` (``n_t`` when the target set is not smaller
      than the auxiliary one), so one pass over the wrapper shows every
      auxiliary image at least once and every target sample equally often.
      With the sampler's shuffling, target and auxiliary images of a batch
      are drawn independently and uniformly; the pairing is fixed by
      ``seed`` and independent of workers and ranks, so runs are
      reproducible and any sampler shards both sets consistently under DDP.

    The returned item is the target item (``inputs`` + a
    :class:`~mmmtl.structures.MultiTaskDataSample`) whose data sample gets
    ``ssl_views`` ((V, 3, h, w) tensor, normalised later by
    :class:`~mmmtl.models.MultiTaskDataPreProcessor`), ``ssl_labels``
    (when the auxiliary pipeline makes labels) and the metainfo
    ``ssl_index`` (auxiliary image index, the memory-bank slot). The batch
    therefore holds as many auxiliary images as target images.

    Args:
        dataset (dict | BaseDataset): Target dataset (config or object).
        aux_pipeline (list[dict], optional): Pipeline of the auxiliary
            images; required unless ``aux_dataset`` is given.
        aux_dataset (dict | BaseDataset, optional): Auxiliary dataset whose
            pipeline ends with ``PackSSLViews``.
        seed (int): Seed of the target/auxiliary pairing.
        lazy_init (bool): Defer loading the annotation lists.
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 aux_pipeline: Optional[Sequence[dict]] = None,
                 aux_dataset: Optional[Union[dict, BaseDataset]] = None,
                 seed: int = 0,
                 lazy_init: bool = False):
        if aux_dataset is None:
            if aux_pipeline is None:
                raise ValueError('CompositeDataset needs `aux_pipeline` (or '
                                 'a full `aux_dataset`)')
            if not isinstance(dataset, dict):
                raise TypeError('CompositeDataset builds the auxiliary set '
                                'from the target config: pass `dataset` as '
                                'a config dict, or give `aux_dataset`')
            aux_dataset = copy.deepcopy(dict(dataset))
            aux_dataset.pop('label_fraction', None)
            aux_dataset.pop('label_fraction_seed', None)
            aux_dataset['pipeline'] = list(aux_pipeline)
        elif aux_pipeline is not None:
            raise ValueError('give either `aux_pipeline` or `aux_dataset` '
                             '(with its own pipeline), not both')
        self.dataset = self._build(dataset, 'dataset')
        self.aux_dataset = self._build(aux_dataset, 'aux_dataset')
        self.seed = seed
        self._aux_order: Optional[np.ndarray] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @staticmethod
    def _build(cfg: Union[dict, BaseDataset], key: str):
        if isinstance(cfg, dict):
            return DATASETS.build(cfg)
        if hasattr(cfg, '__getitem__') and hasattr(cfg, '__len__'):
            return cfg
        raise TypeError(f'CompositeDataset.{key} must be a dataset or its '
                        f'config dict, got {type(cfg).__name__}')

    @property
    def metainfo(self) -> dict:
        """The target dataset's metainfo."""
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        """Load both datasets and draw the pairing."""
        if self._fully_initialized:
            return
        for ds in (self.dataset, self.aux_dataset):
            if hasattr(ds, 'full_init'):
                ds.full_init()
        n_t, n_a = len(self.dataset), len(self.aux_dataset)
        if n_t == 0 or n_a == 0:
            raise ValueError(f'CompositeDataset: empty target ({n_t}) or '
                             f'auxiliary ({n_a}) dataset')
        length = n_t * max(1, math.ceil(n_a / n_t))
        rng = np.random.default_rng(self.seed)
        self._aux_order = rng.permutation(length) % n_a
        self._fully_initialized = True
        MMLogger.get_current_instance().info(
            f'CompositeDataset: {n_t} target samples, {n_a} auxiliary '
            f'images, {length} pairs (seed {self.seed})')

    def __len__(self) -> int:
        self.full_init()
        return len(self._aux_order)

    def pair(self, idx: int) -> List[int]:
        """``[target index, auxiliary index]`` of wrapper index ``idx``."""
        self.full_init()
        return [idx % len(self.dataset), int(self._aux_order[idx])]

    def get_data_info(self, idx: int) -> dict:
        """Annotation info of the target sample of ``idx``."""
        return self.dataset.get_data_info(self.pair(idx)[0])

    def __getitem__(self, idx: int) -> dict:
        """The target item with the auxiliary views added to its sample."""
        target_idx, aux_idx = self.pair(idx)
        item = self.dataset[target_idx]
        aux = self.aux_dataset[aux_idx]
        if not isinstance(aux, dict) or 'ssl_views' not in aux:
            raise KeyError('the auxiliary pipeline must end with '
                           "dict(type='PackSSLViews'), got "
                           f'{type(aux).__name__} '
                           f'{sorted(aux) if isinstance(aux, dict) else ""}')
        sample = item['data_samples']
        sample.ssl_views = aux['ssl_views']
        if 'ssl_labels' in aux:
            sample.ssl_labels = aux['ssl_labels']
        sample.set_metainfo(dict(ssl_index=aux_idx))
        return item

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(target={len(self.dataset)}, '
                f'aux={len(self.aux_dataset)}, seed={self.seed})')
