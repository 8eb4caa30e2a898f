# Copyright (c) mmmtl contributors. All rights reserved.
"""Loading of images and of every task's annotation from the formats in use.

A dataset describes each sample's annotations in ``results['ann_info']``::

    results['ann_info'] = {
        'semseg': dict(path='.../segmentation/0001.png',
                       label_map={0: 255}, label_offset=-1),
        'depth': dict(path='.../depth/0001.npy'),
        'normals': dict(path='.../normals/0001.png', encoding='uint16'),
    }

:class:`LoadMultiTaskAnnotations` reads each file with the reader chosen by
its extension (``.png``/``.jpg`` through OpenCV, keeping 16-bit values;
``.npy``; ``.mat`` through SciPy) and then applies the *decoding* options of
the entry, documented in :func:`decode_annotation` (the raw array must fit
the task encoding the dataset declares, see
:class:`~mmmtl.structures.LabelEncoding`). Every map is then checked
(size, value range, finiteness) and stored under the task's ``results_key``
(see :mod:`mmmtl.structures.tasks`), which is appended to
``results['seg_fields']`` so geometric transforms move it.
"""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import MMLogger
from mmseg.registry import TRANSFORMS
from PIL import Image, UnidentifiedImageError

from mmmtl.structures import LabelEncoding, TaskSpec, check_tasks, get_task

#: Readers by file extension: ``reader(path, **options) -> np.ndarray``.
AnnotationReader = Callable[..., np.ndarray]

# Tolerance on |n| - 1 for surface normals given as unit vectors.
NORMALS_UNIT_TOLERANCE = 1e-2


class AnnotationError(ValueError):
    """An annotation file is missing, unreadable or holds invalid values."""


def _check_exists(path: str) -> None:
    if not osp.isfile(path):
        raise AnnotationError(f'{path}: file not found')


def read_palette_indices(path: str) -> Optional[np.ndarray]:
    """(H, W) palette indices of a palette ("P" mode) image, ``None`` for
    any other file (only its header is read then)."""
    try:
        with Image.open(path) as image:
            return np.array(image) if image.mode == 'P' else None
    except (UnidentifiedImageError, OSError):
        return None  # OpenCV reports undecodable files


def read_image_file(path: str, channel_order: str = 'rgb') -> np.ndarray:
    """Read a PNG/JPEG keeping its bit depth.

    Palette ("P" mode) images such as PASCAL VOC's ``SegmentationClass``
    PNGs are returned as their (H, W) palette indices (read with Pillow;
    OpenCV would expand them to colours).

    Args:
        path (str): File path.
        channel_order (str): ``'rgb'`` flips OpenCV's BGR order of 3-channel
            images to RGB; ``'bgr'`` keeps it.

    Returns:
        np.ndarray: (H, W) or (H, W, C) array of the file's dtype.
    """
    _check_exists(path)
    indices = read_palette_indices(path)
    if indices is not None:
        return indices
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if array is None:
        raise AnnotationError(f'{path}: OpenCV cannot decode this image')
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.ndim == 3 and channel_order == 'rgb':
        array = np.ascontiguousarray(array[..., ::-1])
    return array


def read_npy_file(path: str) -> np.ndarray:
    """Read a ``.npy`` array (no pickles)."""
    _check_exists(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise AnnotationError(f'{path}: cannot read .npy file ({err})')


def read_mat_file(path: str, key: Optional[str] = None,
                  parser: Optional[Callable] = None) -> np.ndarray:
    """Read a MATLAB ``.mat`` file.

    Args:
        path (str): File path.
        key (str, optional): Variable holding the array, e.g. ``'LabelMap'``.
        parser (callable, optional): ``parser(mat_dict) -> np.ndarray`` for
            structured files (e.g. PASCAL-Part ``anno`` structs); wins over
            ``key``.

    Returns:
        np.ndarray: The array.
    """
    from scipy.io import loadmat  # imported lazily: rarely needed
    _check_exists(path)
    try:
        mat = loadmat(path)
    except Exception as err:  # scipy raises many kinds on corrupt files
        raise AnnotationError(f'{path}: cannot read .mat file ({err})')
    if parser is not None:
        return parser(mat)
    if key is None or key not in mat:
        variables = sorted(k for k in mat if not k.startswith('__'))
        raise AnnotationError(f'{path}: .mat variable {key!r} not found; '
                              f'the file holds {variables}')
    return np.asarray(mat[key])


def read_annotation_file(path: str, **options) -> np.ndarray:
    """Read an annotation with the reader that its extension selects.

    Args:
        path (str): ``.png``, ``.jpg``, ``.jpeg``, ``.npy`` or ``.mat`` file.
        **options: Reader options (``channel_order`` for images, ``key`` and
            ``parser`` for ``.mat``).

    Returns:
        np.ndarray: The raw array.
    """
    ext = osp.splitext(path)[1].lower()
    if ext in ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'):
        return read_image_file(path, options.get('channel_order', 'rgb'))
    if ext == '.npy':
        return read_npy_file(path)
    if ext == '.mat':
        return read_mat_file(path, options.get('key'), options.get('parser'))
    raise AnnotationError(f'{path}: unsupported annotation format {ext!r}; '
                          'expected .png, .jpg, .npy or .mat')


def apply_label_map(labels: np.ndarray, label_map: Dict[int, int],
                    label_offset: int = 0) -> np.ndarray:
    """Remap integer labels: listed values by ``label_map``, others shifted.

    Args:
        labels (np.ndarray): Integer label map of any shape.
        label_map (dict[int, int]): Explicit mapping of some raw values, e.g.
            ``{0: 255}`` (unlabelled to ignore) or ``{-1: 255}``.
        label_offset (int): Added to every value not in ``label_map``, e.g.
            ``-1`` for NYUD's 1-based classes.

    Returns:
        np.ndarray: int64 label map.
    """
    raw = labels.astype(np.int64)
    out = raw + label_offset
    for src, dst in label_map.items():
        out[raw == src] = dst
    return out


def decode_normals(raw: np.ndarray, encoding: str) -> np.ndarray:
    """Decode surface normals to float32 unit vectors (zero = invalid).

    Args:
        raw (np.ndarray): (H, W, 3) array.
        encoding (str): ``'float'`` (already vectors), ``'uint8'``
            (``2 * v / 255 - 1``) or ``'uint16'`` (``2 * v / 65535 - 1``).
            For integer encodings an all-zero pixel marks an invalid normal.

    Returns:
        np.ndarray: (H, W, 3) float32.
    """
    if encoding == 'float':
        return raw.astype(np.float32)
    scale = {'uint8': 255.0, 'uint16': 65535.0}.get(encoding)
    if scale is None:
        raise ValueError(f'unknown normals encoding {encoding!r}; expected '
                         "'float', 'uint8' or 'uint16'")
    invalid = np.all(raw == 0, axis=-1)
    normals = (2.0 * raw.astype(np.float32) / scale - 1.0)
    normals[invalid] = 0.0
    return normals


def distinct_values(raw: np.ndarray, limit: int = 12) -> List:
    """Up to ``limit`` distinct values of ``raw`` (for checks and messages;
    a histogram for 8/16-bit arrays, which is much faster than sorting)."""
    if raw.dtype in (np.uint8, np.uint16, np.bool_):
        counts = np.bincount(raw.ravel().astype(np.int64),
                             minlength=2)
        values = np.flatnonzero(counts)
    else:
        values = np.unique(raw)
    return values[:limit].tolist() if limit else values.tolist()


def encoding_problem(raw: np.ndarray, encoding: LabelEncoding) -> \
        Optional[str]:
    """Why ``raw`` does not fit ``encoding``, or ``None`` when it does.

    Args:
        raw (np.ndarray): The array as read from the file.
        encoding (LabelEncoding): The declared encoding.

    Returns:
        str | None: A description of the mismatch (dtype, values seen).
    """
    dtype = raw.dtype
    if encoding.dtypes is not None:
        if dtype.name not in encoding.dtypes:
            return f'dtype {dtype.name}, expected {"/".join(encoding.dtypes)}'
    elif dtype.kind not in encoding.dtype_kinds:
        return f'dtype {dtype.name} is not accepted'
    if encoding.values is not None:
        values = distinct_values(raw, limit=0)
        extra = [v for v in values if v not in encoding.values]
        if extra:
            return (f'values {values[:12]} seen, {extra[:12]} outside '
                    f'{set(encoding.values)}')
    if encoding.value_range is not None and raw.size:
        low, high = encoding.value_range
        finite = raw[np.isfinite(raw)] if dtype.kind == 'f' else raw
        if finite.size and (finite.min() < low or finite.max() > high):
            return (f'values in [{finite.min():.4g}, {finite.max():.4g}], '
                    f'expected [{low:g}, {high:g}]')
    if encoding.integral and dtype.kind == 'f':
        finite = raw[np.isfinite(raw)]
        if (finite != np.round(finite)).any():
            frac = np.unique(finite[finite != np.round(finite)])[:5]
            return f'non-integer values such as {frac.tolist()}'
    if encoding.refuse_subset is not None:
        values = distinct_values(raw, limit=0)
        subset = encoding.refuse_subset
        if set(values) <= set(subset) and max(subset) in values:
            return (f'values {values} only: a {set(subset)} mask, which '
                    'this encoding would decode to all negative')
    return None


def check_encoding(raw: np.ndarray, spec: TaskSpec, encoding: LabelEncoding,
                   path: str) -> None:
    """Refuse ``raw`` when it does not fit the declared ``encoding``.

    Raises:
        AnnotationError: Naming the file, the dtype/values seen, the
            declared encoding and the task's encodings the file does fit.
    """
    problem = encoding_problem(raw, encoding)
    if problem is None:
        return
    fitting = [name for name, other in spec.encodings.items()
               if name != encoding.name and
               encoding_problem(raw, other) is None]
    hint = (f'; the file fits encoding {fitting}: if that is how this '
            f'dataset stores {spec.name}, declare it on the dataset config, '
            f"e.g. label_encodings=dict({spec.name}='{fitting[0]}')"
            if fitting else '')
    raise AnnotationError(
        f'{path}: {spec.name} annotation ({raw.dtype.name}, values '
        f'{distinct_values(raw)}) does not match the declared encoding '
        f"'{encoding.name}' ({encoding.description}): {problem}{hint}")


def decode_annotation(raw: np.ndarray, spec: TaskSpec,
                      label_map: Optional[Dict[int, int]] = None,
                      label_offset: int = 0,
                      encoding: Optional[str] = None,
                      renormalize: bool = False,
                      path: str = '<array>') -> np.ndarray:
    """Check a raw array against its declared encoding and decode it.

    Canonical maps: discrete and binary tasks int64 labels with the task's
    ignore value; depth float32 (0 = invalid); normals float32 (H, W, 3),
    zero vector = invalid.

    Args:
        raw (np.ndarray): Array as read from the file.
        spec (TaskSpec): The task.
        label_map (dict[int, int], optional): See :func:`apply_label_map`
            (discrete tasks).
        label_offset (int): See :func:`apply_label_map`.
        encoding (str, optional): Name of one of the task's
            :class:`~mmmtl.structures.LabelEncoding` (``spec.encodings``):
            dtype and value set are checked, then the file is decoded
            accordingly. Default: the task's ``default_encoding`` (class
            ids; float depth/normals; binary ``{0, 1}``).
        renormalize (bool): Normals: rescale valid vectors to unit length
            (for encodings that lose precision, e.g. 8-bit PNGs).
        path (str): The file, for messages.

    Returns:
        np.ndarray: The canonical map.

    Raises:
        AnnotationError: The array does not fit the declared encoding.
    """
    try:
        declared = spec.encoding(encoding)
    except KeyError as err:
        raise AnnotationError(f'{path}: {err.args[0]}') from None
    check_encoding(raw, spec, declared, path)
    if spec.is_discrete:
        return apply_label_map(raw, label_map or {}, label_offset)
    if spec.is_binary:
        if declared.threshold is not None:
            values = raw.astype(np.float64) * declared.scale
            return (values > declared.threshold).astype(np.int64)
        if declared.positive_value is not None:
            return (raw == declared.positive_value).astype(np.int64)
        return raw.astype(np.int64)
    if spec.unit_norm:
        normals = decode_normals(raw, declared.name)
        if renormalize:
            norm = np.linalg.norm(normals, axis=-1, keepdims=True)
            normals = np.where(norm > 0, normals / np.maximum(norm, 1e-12),
                               0.0).astype(np.float32)
        return normals
    return raw.astype(np.float32) * np.float32(declared.scale)


class AnnotationChecker:
    """Checks canonical maps and sanitises non-finite values.

    Non-finite values (NaN/Inf) in continuous maps become invalid pixels and
    are reported with one warning per file; values outside the task's range
    raise :class:`AnnotationError` naming the file.

    Args:
        num_classes (dict[str, int]): Class counts of discrete tasks.
        warned (set, optional): Files already warned about (shared across
            calls so each file is reported once per worker).
    """

    def __init__(self, num_classes: Optional[Dict[str, int]] = None,
                 warned: Optional[set] = None):
        self.num_classes = num_classes or {}
        self._warned = warned if warned is not None else set()

    def __call__(self, array: np.ndarray, spec: TaskSpec, path: str,
                 image_shape: Sequence[int]) -> np.ndarray:
        """Check ``array`` (canonical map of ``spec`` read from ``path``).

        Args:
            array (np.ndarray): (H, W) or (H, W, C) canonical map.
            spec (TaskSpec): Its task.
            path (str): The file, for messages.
            image_shape (Sequence[int]): (H, W) of the image.

        Returns:
            np.ndarray: The map, with non-finite values set invalid.
        """
        self._check_shape(array, spec, path, image_shape)
        if spec.is_continuous:
            return self._check_continuous(array, spec, path)
        self._check_labels(array, spec, path)
        return array

    @staticmethod
    def _check_shape(array: np.ndarray, spec: TaskSpec, path: str,
                     image_shape: Sequence[int]) -> None:
        expected_ndim = 2 if spec.gt_channels == 1 else 3
        if array.ndim != expected_ndim or (
                expected_ndim == 3 and array.shape[2] != spec.gt_channels):
            raise AnnotationError(
                f'{path}: {spec.name} annotation has shape {array.shape}; '
                f'expected (H, W)' + ('' if expected_ndim == 2 else
                                      f', {spec.gt_channels})'))
        if tuple(array.shape[:2]) != tuple(image_shape[:2]):
            raise AnnotationError(
                f'{path}: {spec.name} annotation is {array.shape[0]}x'
                f'{array.shape[1]} but the image is {image_shape[0]}x'
                f'{image_shape[1]}')

    def _check_labels(self, labels: np.ndarray, spec: TaskSpec,
                      path: str) -> None:
        upper = 2 if spec.is_binary else self.num_classes.get(spec.name)
        if upper is None:
            return
        bad = (labels != spec.ignore_value) & ((labels < 0) |
                                               (labels >= upper))
        if bad.any():
            values = np.unique(labels[bad])[:10].tolist()
            raise AnnotationError(
                f'{path}: {spec.name} labels {values} are outside '
                f'[0, {upper - 1}] and are not the ignore value '
                f'{spec.ignore_value}')

    def _check_continuous(self, array: np.ndarray, spec: TaskSpec,
                          path: str) -> np.ndarray:
        finite = np.isfinite(array)
        if not finite.all():
            invalid = ~finite.all(axis=-1) if array.ndim == 3 else ~finite
            array = array.copy()
            array[invalid] = spec.ignore_value
            self._warn_once(path, f'{path}: {int(invalid.sum())} NaN/Inf '
                            f'{spec.name} pixels treated as invalid')
        if spec.unit_norm:
            norm = np.linalg.norm(array, axis=-1)
            valid = norm > 0
            off = np.abs(norm[valid] - 1.0)
            if off.size and off.max() > NORMALS_UNIT_TOLERANCE:
                raise AnnotationError(
                    f'{path}: {int((off > NORMALS_UNIT_TOLERANCE).sum())} '
                    f'{spec.name} vectors are not unit length (largest '
                    f'| |n| - 1 | = {off.max():.3g} > '
                    f'{NORMALS_UNIT_TOLERANCE}); zero vectors mark invalid '
                    'pixels')
        elif (array < 0).any():
            raise AnnotationError(
                f'{path}: {spec.name} has negative values (min '
                f'{array.min():.3g}); expected >= 0 with '
                f'{spec.ignore_value} marking invalid pixels')
        return array

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            MMLogger.get_current_instance().warning(message)


def read_rgb_image(path: str) -> np.ndarray:
    """Read an image as (H, W, 3) RGB (uint8 from PNG/JPEG, float32 in
    [0, 255] from ``.npy`` files holding RGB floats in [0, 1])."""
    if path.lower().endswith('.npy'):
        rgb = read_npy_file(path).astype(np.float32)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise AnnotationError(f'{path}: image array has shape '
                                  f'{rgb.shape}; expected (H, W, 3)')
        return rgb * 255.0
    img = read_image_file(path, channel_order='rgb')
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    return img


@TRANSFORMS.register_module()
class LoadMultiTaskImageFromFile(BaseTransform):
    """Load an RGB image from PNG/JPEG or ``.npy``.

    Required keys: ``img_path``. Added keys: ``img`` (H, W, 3, BGR order as
    in MMSegmentation, uint8 or float32), ``img_shape``, ``ori_shape``.

    ``.npy`` images (MTAN layout) hold RGB floats in [0, 1]; they are scaled
    to [0, 255] float32 so the usual mean/std normalisation applies.

    Args:
        to_float32 (bool): Convert the image to float32.
    """

    def __init__(self, to_float32: bool = False):
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']`` into ``results['img']``."""
        rgb = read_rgb_image(results['img_path'])
        img = np.ascontiguousarray(rgb[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(to_float32={self.to_float32})'


@TRANSFORMS.register_module()
class LoadMultiTaskAnnotations(BaseTransform):
    """Load the annotation of every task listed in ``results['ann_info']``.

    Required keys: ``ann_info`` (task -> dict with ``path`` and decoding
    options of :func:`decode_annotation` / reader options of
    :func:`read_annotation_file`), ``img_shape``. Added keys: each task's
    ``results_key`` (e.g. ``gt_depth_map``), ``seg_fields``, ``tasks``.

    Args:
        tasks (list[str], optional): Load only these tasks (all by default).
        num_classes (dict[str, int], optional): Class counts used to check
            label ranges; by default they come from ``results['num_classes']``
            set by the dataset.
    """

    def __init__(self, tasks: Optional[List[str]] = None,
                 num_classes: Optional[Dict[str, int]] = None):
        self.tasks = None if tasks is None else check_tasks(
            tasks, 'LoadMultiTaskAnnotations.tasks')
        self.num_classes = num_classes
        self._warned_files: set = set()

    def transform(self, results: dict) -> dict:
        """Read, decode and check each annotation."""
        checker = AnnotationChecker(
            self.num_classes or results.get('num_classes'),
            self._warned_files)
        ann_info: Dict[str, dict] = results.get('ann_info', {})
        tasks = self.tasks if self.tasks is not None else list(ann_info)
        seg_fields = results.setdefault('seg_fields', [])
        for name in tasks:
            if name not in ann_info:
                raise AnnotationError(
                    f'{results.get("img_path")}: no {name} annotation; the '
                    f'sample has {sorted(ann_info)}')
            spec = get_task(name)
            array = self._load_one(ann_info[name], spec)
            array = checker(array, spec, ann_info[name]['path'],
                            results['img_shape'])
            results[spec.results_key] = array
            if spec.results_key not in seg_fields:
                seg_fields.append(spec.results_key)
        results['tasks'] = list(tasks)
        return results

    @staticmethod
    def _load_one(info: dict, spec: TaskSpec) -> np.ndarray:
        options = dict(info)
        path = options.pop('path')
        reader_keys = ('channel_order', 'key', 'parser')
        reader_options = {k: options.pop(k) for k in reader_keys
                          if k in options}
        raw = read_annotation_file(path, **reader_options)
        if raw.ndim == 3 and spec.gt_channels == 1 and raw.shape[2] == 1:
            raw = raw[..., 0]
        try:
            return decode_annotation(raw, spec, path=path, **options)
        except TypeError as err:
            raise AnnotationError(f'{path}: bad decoding options {options} '
                                  f'for task {spec.name!r} ({err})')

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(tasks={self.tasks})'
