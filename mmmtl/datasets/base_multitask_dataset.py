# Copyright (c) mmmtl contributors. All rights reserved.
"""Base class of every multi-task dataset."""
import math
from abc import ABCMeta, abstractmethod
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmmtl.structures import TASKS, check_tasks


class BaseMultiTaskDataset(BaseDataset, metaclass=ABCMeta):
    """A split of samples with one annotation file per task.

    Subclasses set ``METAINFO`` (``tasks`` they provide, ``classes`` /
    ``palette`` for semseg, ``human_parts_classes`` / ``human_parts_palette``
    for human parts) and implement :meth:`read_split` and
    :meth:`sample_info`. Each sample dict carries ``img_path``, ``ann_info``
    (task -> file and decoding options, see
    :class:`~mmmtl.datasets.transforms.LoadMultiTaskAnnotations`),
    ``num_classes`` and an empty ``seg_fields`` list.

    Args:
        tasks (Sequence[str], optional): Tasks to load; a subset of the
            dataset's tasks (all by default). ``metainfo['tasks']`` becomes
            this list.
        label_fraction (float, optional): Keep a deterministic fraction of
            the samples (e.g. ``0.1``), chosen by ``label_fraction_seed``;
            the subset is logged. ``None`` keeps everything.
        label_fraction_seed (int): Seed of the subset.
        check_files (bool): Check at start-up that every listed image exists,
            so a split file naming a missing sample fails early.
        label_encodings (dict[str, str], optional): Task -> name of a
            :class:`~mmmtl.structures.LabelEncoding` overriding the encoding
            the dataset class declares, for copies of a dataset stored
            differently (e.g. ``dict(edge='binary_255')``).
        **kwargs: Arguments of :class:`mmengine.dataset.BaseDataset`
            (``data_root``, ``pipeline``, ``test_mode``, ...).
    """
    METAINFO: dict = dict(tasks=())

    def __init__(self,
                 tasks: Optional[Sequence[str]] = None,
                 label_fraction: Optional[float] = None,
                 label_fraction_seed: int = 0,
                 check_files: bool = True,
                 label_encodings: Optional[Dict[str, str]] = None,
                 **kwargs):
        available = list(self.METAINFO['tasks'])
        self.tasks = available if tasks is None else check_tasks(
            tasks, f'{self.__class__.__name__}.tasks')
        missing = [t for t in self.tasks if t not in available]
        if missing:
            raise ValueError(f'{self.__class__.__name__} has no {missing} '
                             f'annotations; it provides {available}')
        if label_fraction is not None and not 0 < label_fraction <= 1:
            raise ValueError(f'label_fraction must be in (0, 1], got '
                             f'{label_fraction}')
        self.label_fraction = label_fraction
        self.label_fraction_seed = label_fraction_seed
        self.check_files = check_files
        self.label_encodings = dict(label_encodings or {})
        for task, encoding in self.label_encodings.items():
            if task not in self.tasks:
                raise ValueError(
                    f'{self.__class__.__name__}.label_encodings names '
                    f'{task!r}, which is not one of its tasks {self.tasks}')
            TASKS[task].encoding(encoding)  # KeyError naming the choices
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo['tasks'] = list(self.tasks)
        super().__init__(metainfo=metainfo, **kwargs)

    def _set_split(self,
                   split: str,
                   split_file: Optional[str] = None,
                   valid: Sequence[str] = ('train', 'val')) -> None:
        """Validate and store ``split`` (one of ``valid``) and an optional
        ``split_file`` overriding the split's id list."""
        if split not in valid:
            raise ValueError(f'{self.__class__.__name__}: split must be one '
                             f'of {tuple(valid)}, got {split!r}')
        self.split = split
        self.split_file = split_file

    @classmethod
    def metainfo_from_config(cls, dataset_cfg: dict) -> dict:
        """The metainfo a config of this class gives, without building it
        (no data needed): ``METAINFO`` with the config's ``metainfo``.

        Args:
            dataset_cfg (dict): The dataset's config (``type``, ...).

        Returns:
            dict: Metainfo (class names of the discrete tasks, palettes).
        """
        meta = dict(cls.METAINFO)
        meta.update(dataset_cfg.get('metainfo') or {})
        return meta

    @property
    def num_classes(self) -> Dict[str, int]:
        """Class count of each discrete task, from metainfo."""
        counts = {}
        for name in self.tasks:
            spec = TASKS[name]
            if spec.is_discrete and self.metainfo.get(spec.classes_key):
                counts[name] = len(self.metainfo[spec.classes_key])
        return counts

    @abstractmethod
    def read_split(self) -> List[str]:
        """Sample ids of this split, in order."""

    @abstractmethod
    def sample_info(self, sample_id: str) -> dict:
        """``img_path`` and per-task ``ann_info`` of one sample."""

    def load_data_list(self) -> List[dict]:
        """Build the sample list (restricted to ``label_fraction``)."""
        ids = self.read_split()
        if not ids:
            raise ValueError(
                f'{self.__class__.__name__} ({self.data_root}): split '
                f'{getattr(self, "split", None)!r} '
                f'({getattr(self, "split_file", None) or "default list"}) '
                'lists no samples; expected at least one sample id')
        ids = self.select_fraction(ids)
        num_classes = self.num_classes
        data_list = []
        for sample_id in ids:
            info = self.sample_info(sample_id)
            info['ann_info'] = {t: info['ann_info'][t] for t in self.tasks}
            for task, encoding in self.label_encodings.items():
                info['ann_info'][task]['encoding'] = encoding
            info.update(sample_id=sample_id, num_classes=num_classes,
                        seg_fields=[])
            data_list.append(info)
        if self.check_files:
            self._check_images_exist(data_list)
        return data_list

    def select_fraction(self, ids: List[str]) -> List[str]:
        """Deterministic subset of ``ids`` of size ``ceil(fraction * n)``.

        The subset depends only on ``label_fraction_seed`` and the split's
        length, and keeps the split's order.
        """
        if self.label_fraction is None or self.label_fraction == 1:
            return ids
        count = max(1, math.ceil(self.label_fraction * len(ids)))
        rng = np.random.default_rng(self.label_fraction_seed)
        keep = np.sort(rng.permutation(len(ids))[:count])
        subset = [ids[i] for i in keep]
        MMLogger.get_current_instance().info(
            f'{self.__class__.__name__}: label_fraction='
            f'{self.label_fraction} keeps {count}/{len(ids)} samples (seed '
            f'{self.label_fraction_seed}): {subset}')
        return subset

    def _check_images_exist(self, data_list: List[dict]) -> None:
        missing = [d['img_path'] for d in data_list
                   if not osp.isfile(d['img_path'])]
        if missing:
            raise FileNotFoundError(
                f'{self.__class__.__name__} ({self.data_root}): '
                f'{len(missing)} samples listed in the split have no image, '
                f'e.g. {missing[:5]}')

