# Copyright (c) mmmtl contributors. All rights reserved.
"""Three-line inference: build a model from a config, load weights, predict.

Example:
    >>> from mmmtl.apis import init_model, inference_model
    >>> model = init_model('configs/hps/hps_resnet18_2k_synthetic-128x160.py',
    ...                    'work_dirs/demo/iter_2000.pth', device='cpu')
    >>> sample = inference_model(model, 'demo.png')
    >>> sample.get_pred('depth').data.shape  # (1, H, W), metres
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.logging import HistoryBuffer, MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

from mmmtl.datasets.transforms import read_rgb_image
from mmmtl.structures import TASKS, MultiTaskDataSample
from mmmtl.utils.checkpoint_safety import (format_load_report,
                                           load_model_weights)

ImageType = Union[str, np.ndarray]
ConfigType = Union[str, Path, Config, ConfigDict, dict]

#: Pipeline steps that read ground truth; inference has none, so they are
#: dropped from the test pipeline.
ANNOTATION_LOADERS = ('LoadMultiTaskAnnotations', 'LoadAnnotations',
                      'LoadDepthAnnotation')
#: Pipeline steps that read the image; replaced by :class:`LoadInferenceImage`.
IMAGE_LOADERS = ('LoadMultiTaskImageFromFile', 'LoadImageFromFile',
                 'LoadImageFromNDArray')


def load_checkpoint_file(filename: str) -> dict:
    """Load a checkpoint with ``weights_only=True`` (no arbitrary code).

    Uses :func:`mmmtl.utils.checkpoint_safety.load_from_local_safe`: only
    tensors, containers and the allow-listed MMEngine/numpy globals of a
    runner checkpoint are accepted; anything else is refused with an error
    naming the file and the global. An empty file, a file not written by
    ``torch.save`` and a file holding something other than a dict are
    refused with a :class:`~mmmtl.utils.checkpoint_safety.
    CheckpointFormatError` naming the file.

    Args:
        filename (str): ``.pth`` file written by an mmengine runner or by
            ``torch.save({'state_dict': ..., 'meta': ...})``.

    Returns:
        dict: The checkpoint (``state_dict`` and, when present, ``meta``).
    """
    from mmmtl.utils.checkpoint_safety import load_from_local_safe
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    # HistoryBuffer registers its statistics methods (min, max, mean,
    # current) on its first instance; a runner checkpoint refers to them,
    # and a fresh process (tools/infer.py) has created none yet.
    HistoryBuffer()
    return load_from_local_safe(filename, map_location='cpu')


def _as_config(config: ConfigType) -> Config:
    if isinstance(config, (str, Path)):
        return Config.fromfile(str(config))
    if isinstance(config, Config):
        return copy.deepcopy(config)
    if isinstance(config, dict):
        return Config(copy.deepcopy(dict(config)))
    raise TypeError(f'config must be a file path, Config or dict, got '
                    f'{type(config).__name__}')


def dataset_metainfo_from_config(cfg: Config) -> dict:
    """Metainfo (class names, palettes) of the config's test dataset class,
    read from the class without building the dataset (no data needed)."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key) or {}
        dataset = loader.get('dataset') or {}
        cls = DATASETS.get(dataset.get('type')) if dataset.get('type') \
            else None
        if cls is not None and hasattr(cls, 'metainfo_from_config'):
            return copy.deepcopy(cls.metainfo_from_config(dataset))
        if cls is not None:
            meta = dict(copy.deepcopy(getattr(cls, 'METAINFO', {})))
            meta.update(dataset.get('metainfo') or {})
            return meta
    return {}


def _checked_metainfo(meta: dict, model: nn.Module) -> dict:
    """Drop class names whose count disagrees with the head's outputs."""
    head = model.decode_head
    meta = dict(meta)
    for task in head.tasks:
        spec = TASKS[task]
        names = meta.get(spec.classes_key) if spec.is_discrete else None
        if names is not None and len(names) != head.out_channels[task]:
            MMLogger.get_current_instance().warning(
                f'{spec.classes_key} of the dataset has {len(names)} names '
                f'but the model predicts {head.out_channels[task]} {task} '
                'classes; class names and palette are not used')
            meta.pop(spec.classes_key, None)
            meta.pop('palette' if spec.classes_key == 'classes' else
                     f'{task}_palette', None)
    meta['tasks'] = list(head.tasks)
    return meta


def init_model(config: ConfigType,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a multi-task model from a config and load its weights.

    Args:
        config (str | Path | Config | dict): Config file or object.
        checkpoint (str, optional): Checkpoint file; random weights if
            ``None``.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:0'``, ...
        cfg_options (dict, optional): Overrides merged into the config.
        strict (bool): Refuse a checkpoint whose keys or shapes differ from
            the model's (:class:`~mmmtl.utils.checkpoint_safety.
            CheckpointMismatchError` naming them). ``False`` loads what
            matches and logs a warning listing every key that was not
            loaded (a deliberate partial load).

    Returns:
        nn.Module: The model in eval mode on ``device``, with ``cfg`` and
        ``dataset_meta`` (class names and palettes from the checkpoint, or
        else from the config's dataset class) attributes.
    """
    cfg = _as_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError('the config has no `model` entry')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)
    backbone = model_cfg.get('backbone') or {}
    if isinstance(backbone.get('init_cfg'), dict) and \
            backbone['init_cfg'].get('type') == 'Pretrained':
        backbone['init_cfg'] = None  # weights come from the checkpoint
    model = MODELS.build(model_cfg)
    meta = {}
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint)
        report = load_model_weights(model, ckpt, checkpoint, strict=strict)
        if any(report.values()):
            MMLogger.get_current_instance().warning(
                f'partial load of {checkpoint} (strict=False):\n' +
                '\n'.join(format_load_report(report)))
        meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) \
            else {}
        meta = meta.get('dataset_meta') or {}
    if not meta:
        meta = dataset_metainfo_from_config(cfg)
    model.dataset_meta = _checked_metainfo(meta, model)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


class LoadInferenceImage:
    """First pipeline step at inference: a path or an array to ``img``.

    Paths are read like :class:`~mmmtl.datasets.transforms.
    LoadMultiTaskImageFromFile` does; arrays are taken as (H, W, 3) **BGR**
    (what ``mmcv.imread`` / ``cv2.imread`` return), as in MMSegmentation's
    inference API. ``img`` is stored in BGR order like the file loader.
    """

    def __call__(self, item: Union[ImageType, dict]) -> dict:
        """Return a pipeline ``results`` dict for one input."""
        if isinstance(item, dict):
            return item
        if isinstance(item, (str, Path)):
            rgb = read_rgb_image(str(item))
            results = dict(img_path=str(item),
                           img=np.ascontiguousarray(rgb[..., ::-1]))
        elif isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] != 3:
                raise ValueError(f'an image array must be (H, W, 3) BGR, '
                                 f'got shape {item.shape}')
            results = dict(img=np.ascontiguousarray(item))
        else:
            raise TypeError(f'inputs must be image paths or (H, W, 3) '
                            f'arrays, got {type(item).__name__}')
        results['img_shape'] = results['img'].shape[:2]
        results['ori_shape'] = results['img'].shape[:2]
        return results


def build_inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline without annotation loading.

    The image loader is replaced by :class:`LoadInferenceImage` (paths or
    arrays); annotation loaders are dropped; the other steps (resizes,
    packing) are kept.

    Args:
        cfg (Config): Full config with ``test_dataloader.dataset.pipeline``
            (or ``test_pipeline``).

    Returns:
        Compose: Callable from one input to ``inputs`` + ``data_samples``.
    """
    pipeline = None
    loader = cfg.get('test_dataloader') or {}
    if loader.get('dataset') and loader['dataset'].get('pipeline'):
        pipeline = loader['dataset']['pipeline']
    elif cfg.get('test_pipeline'):
        pipeline = cfg.test_pipeline
    if not pipeline:
        raise KeyError('the config has no test pipeline: set '
                       'test_dataloader.dataset.pipeline or test_pipeline')
    steps: List = [LoadInferenceImage()]
    for step in pipeline:
        kind = step.get('type') if isinstance(step, dict) else None
        if kind in ANNOTATION_LOADERS or kind in IMAGE_LOADERS:
            continue
        steps.append(copy.deepcopy(step))
    if not any(isinstance(s, dict) and s.get('type') == 'PackMultiTaskInputs'
               for s in steps):
        steps.append(dict(type='PackMultiTaskInputs'))
    return Compose(steps)


def inference_model(model: nn.Module, img: Union[ImageType,
                                                 Sequence[ImageType]]
                    ) -> Union[MultiTaskDataSample, List[MultiTaskDataSample]]:
    """Predict every task of one image or a list of images.

    Args:
        model (nn.Module): Model from :func:`init_model`.
        img (str | np.ndarray | list): Image path(s) or (H, W, 3) BGR
            array(s).

    Returns:
        MultiTaskDataSample | list[MultiTaskDataSample]: One sample per
        image (a list if a list was given) with every task's prediction at
        the image's size: ``sample.get_pred(task).data`` is (1, H, W) class
        ids for discrete tasks, (1, H, W) probabilities for binary tasks,
        (3, H, W) unit normals, (1, H, W) depth.
    """
    single = not isinstance(img, (list, tuple))
    imgs = [img] if single else list(img)
    pipeline = build_inference_pipeline(model.cfg)
    data = pseudo_collate([pipeline(i) for i in imgs])
    with torch.no_grad():
        results = model.test_step(data)
    return results[0] if single else results


def predictions_to_numpy(sample: MultiTaskDataSample) -> Dict[str, np.ndarray]:
    """Per-task predictions of a sample as numpy arrays.

    Args:
        sample (MultiTaskDataSample): Output of :func:`inference_model`.

    Returns:
        dict[str, np.ndarray]: task -> (H, W) class ids (int64) /
        probabilities / depth, or (H, W, 3) normals.
    """
    out = {}
    for task, spec in TASKS.items():
        pred = sample.get(spec.pred_field)
        if pred is None:
            continue
        array = pred.data.detach().cpu().numpy()
        out[task] = array[0] if array.shape[0] == 1 else \
            array.transpose(1, 2, 0)
    return out
