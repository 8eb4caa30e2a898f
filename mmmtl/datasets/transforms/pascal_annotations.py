# Copyright (c) mmmtl contributors. All rights reserved.
"""Decoders of the PASCAL-Context multi-task annotations stored as ``.mat``.

They plug into :class:`~mmmtl.datasets.transforms.LoadMultiTaskAnnotations`
through the ``parser`` option of the ``.mat`` reader (see
:func:`~mmmtl.datasets.transforms.loading.read_mat_file`): an ``ann_info``
entry ``dict(path='.../x.mat', parser=functools.partial(f, ...))`` makes the
loader call ``f(mat_dict, ...)``. Every parser returns the task's canonical
map (labels with 255 ignore, or float vectors with zero = invalid), so the
generic decoding that follows is the identity.

* Human parts (:func:`parse_human_parts`): the PASCAL-Part ``anno`` struct.
* Edges (:func:`parse_label_map_edges`): the Laplacian of the 459-class
  PASCAL-Context ``LabelMap``, thinned.
* Surface normals (:func:`parse_masked_normals`): the distilled normals PNG,
  kept only on the Context classes that also exist in NYUD (the teacher was
  trained on NYUD), plus ``tvmonitor``.
"""
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from mmmtl.utils.boundary_morphology import label_map_edges
from .loading import AnnotationError, read_image_file

#: Class index of ``person`` in PASCAL VOC / PASCAL-Part ``class_ind``.
PERSON_CLASS_IND = 15

#: PASCAL-Part person part names -> the 6 grouped parts (0 = background) of
#: the multi-task toolbox: 1 head (hair, head, ears, eyebrows, eyes, mouth,
#: nose), 2 torso (neck, torso), 3 upper arms, 4 lower arms incl. hands,
#: 5 upper legs, 6 lower legs incl. feet.
HUMAN_PARTS_GROUPING: Dict[str, int] = {
    'hair': 1, 'head': 1, 'lear': 1, 'rear': 1, 'lebrow': 1, 'rebrow': 1,
    'leye': 1, 'reye': 1, 'mouth': 1, 'nose': 1,
    'neck': 2, 'torso': 2,
    'luarm': 3, 'ruarm': 3,
    'llarm': 4, 'rlarm': 4, 'lhand': 4, 'rhand': 4,
    'luleg': 5, 'ruleg': 5,
    'llleg': 6, 'rlleg': 6, 'lfoot': 6, 'rfoot': 6,
}

#: Names of the 7 human-parts classes.
HUMAN_PARTS_CLASSES = ('background', 'head', 'torso', 'upper_arms',
                       'lower_arms', 'upper_legs', 'lower_legs')

#: Context ``LabelMap`` classes (459-class labels.txt index: name) on which
#: the distilled normals are valid: the names present in both the PASCAL-
#: Context label list and the NYUv2 (894-name) label list, ``unknown``
#: excluded, plus ``tvmonitor`` (NYU calls it ``television``/``monitor``).
#: This is the intersection the multi-task toolbox computes from its
#: ``context_classes.json`` / ``nyu_classes.json`` (170 classes).
NORMALS_VALID_CONTEXT_CLASSES: Dict[int, str] = {
    3: 'air conditioner', 4: 'antenna', 6: 'ashtray', 9: 'bag', 10: 'ball',
    11: 'balloon', 13: 'barrel', 15: 'basket', 17: 'bathtub', 18: 'bed',
    22: 'bench', 23: 'bicycle', 29: 'blackboard', 30: 'board', 33: 'book',
    34: 'bottle', 36: 'bowl', 37: 'box', 38: 'bracelet', 39: 'brick',
    41: 'broom', 43: 'bucket', 46: 'cabinet', 49: 'cake', 50: 'calculator',
    51: 'calendar', 53: 'camera', 55: 'can', 56: 'candle', 59: 'car',
    61: 'cart', 62: 'case', 65: 'cat', 66: 'cd', 68: 'ceiling',
    69: 'cell phone', 72: 'chair', 73: 'chessboard', 78: 'clock',
    83: 'coffee machine', 84: 'comb', 85: 'computer', 87: 'cone',
    88: 'container', 95: 'corkscrew', 96: 'counter', 101: 'crate',
    104: 'cup', 105: 'curtain', 107: 'cutting board', 111: 'dishwasher',
    113: 'dog', 115: 'door', 122: 'drum', 124: 'duck', 135: 'envelope',
    141: 'fan', 142: 'faucet', 143: 'fax machine', 146: 'fire extinguisher',
    150: 'fish tank', 154: 'flag', 157: 'flashlight', 158: 'floor',
    159: 'flower', 165: 'fork', 172: 'fruit', 174: 'furnace', 181: 'glass',
    183: 'globe', 184: 'glove', 191: 'guitar', 193: 'hammer', 195: 'handle',
    197: 'hanger', 199: 'hat', 202: 'heater', 213: 'ipod',
    215: 'ironing board', 216: 'jar', 219: 'key', 220: 'keyboard',
    223: 'knife', 225: 'ladder', 228: 'laptop', 230: 'lid', 232: 'light',
    233: 'light bulb', 238: 'lock', 239: 'machine', 242: 'map', 243: 'mask',
    246: 'mattress', 250: 'microphone', 251: 'microwave', 252: 'mirror',
    255: 'money', 260: 'mouse', 261: 'mouse pad', 263: 'napkin',
    269: 'oven', 272: 'pan', 273: 'paper', 275: 'paper cutter', 281: 'pen',
    283: 'pencil', 284: 'person', 285: 'photo', 286: 'piano',
    287: 'picture', 288: 'pig', 290: 'pillow', 291: 'pipe', 292: 'pitcher',
    293: 'plant', 295: 'plate', 304: 'pool table', 307: 'pot',
    309: 'printer', 310: 'projector', 314: 'radiator', 315: 'radio',
    319: 'range hood', 323: 'remote control', 329: 'rope', 330: 'rug',
    331: 'ruler', 336: 'scale', 342: 'sculpture', 345: 'sewing machine',
    349: 'shelves', 350: 'shoe', 351: 'shopping cart', 352: 'shovel',
    355: 'sign', 357: 'sink', 368: 'sofa', 370: 'spatula', 371: 'speaker',
    374: 'spoon', 379: 'stapler', 380: 'stick', 383: 'stool', 384: 'stove',
    397: 'table', 401: 'tape', 403: 'telephone', 405: 'tent',
    407: 'toaster', 408: 'toilet', 411: 'toothbrush', 412: 'towel',
    413: 'toy', 414: 'toy car', 417: 'trampoline', 419: 'tray',
    421: 'tricycle', 423: 'trophy', 427: 'tvmonitor', 429: 'typewriter',
    430: 'umbrella', 432: 'vacuum cleaner', 440: 'wall', 441: 'wallet',
    442: 'wardrobe', 443: 'washing machine', 444: 'watch',
    446: 'water dispenser', 454: 'window', 457: 'wire',
}


def _struct_field(struct: np.ndarray, name: str, path: str) -> np.ndarray:
    """Field ``name`` of a MATLAB struct loaded by ``scipy.io.loadmat``."""
    names = struct.dtype.names or ()
    if name not in names:
        raise AnnotationError(f'{path}: PASCAL-Part struct has no field '
                              f'{name!r} (fields: {list(names)})')
    return struct[name]


def _objects(mat: Mapping, path: str) -> np.ndarray:
    """The (N,) ``anno.objects`` struct array of a PASCAL-Part file."""
    if 'anno' not in mat:
        variables = sorted(k for k in mat if not k.startswith('__'))
        raise AnnotationError(f'{path}: not a PASCAL-Part file (no "anno" '
                              f'variable; it holds {variables})')
    anno = np.asarray(mat['anno']).reshape(-1)[0]
    objects = _struct_field(anno, 'objects', path)
    return np.asarray(objects).reshape(-1)


def _scalar(value) -> object:
    """A MATLAB scalar/string wrapped in nested arrays -> Python value."""
    value = np.asarray(value)
    while value.dtype == object and value.size == 1:
        value = np.asarray(value.reshape(-1)[0])
    if value.dtype.kind in 'US':
        return str(value.reshape(-1)[0]) if value.ndim else str(value)
    return value.reshape(-1)[0].item()


def parse_human_parts(mat: Mapping,
                      path: str = '<.mat>',
                      image_shape: Optional[Tuple[int, int]] = None,
                      img_path: Optional[str] = None,
                      grouping: Optional[Mapping[str, int]] = None,
                      person_class: int = PERSON_CLASS_IND,
                      no_person_value: int = 255) -> np.ndarray:
    """Human-parts label map from a PASCAL-Part ``anno`` struct.

    The struct layout (``scipy.io.loadmat`` of the PASCAL-Part files) is
    ``anno.objects(i)`` with fields ``class``, ``class_ind``, ``mask``
    (H, W) and ``parts`` (1, M) with fields ``part_name`` and ``mask``.
    Following the multi-task toolbox: the map starts at 0 (background);
    for every object with ``class_ind == person_class`` that has parts, each
    part's mask is painted with its group id, later parts overwriting
    earlier ones; person pixels not covered by a part stay background.

    Images without any person object that has parts get ``no_person_value``
    everywhere. The default 255 (ignore) matches the toolbox's evaluation,
    which skips images whose ground truth is uniformly 0 or 255; the
    toolbox's training loader fills them with 0 instead (trains them as
    background) - pass ``no_person_value=0`` for that.

    Args:
        mat (Mapping): ``scipy.io.loadmat`` output.
        path (str): File path, for messages.
        image_shape (tuple[int, int], optional): (H, W) used when the file
            holds no object mask to take the size from.
        img_path (str, optional): Image read for its size when neither an
            object mask nor ``image_shape`` gives it.
        grouping (Mapping[str, int], optional): Part name -> label;
            :data:`HUMAN_PARTS_GROUPING` by default.
        person_class (int): ``class_ind`` of persons.
        no_person_value (int): Fill value of images without person parts.

    Returns:
        np.ndarray: (H, W) int64 labels in ``[0, 6]`` or the fill value.
    """
    grouping = HUMAN_PARTS_GROUPING if grouping is None else grouping
    objects = _objects(mat, path)
    target = None
    shape = image_shape
    for obj in objects:
        mask = np.asarray(_struct_field(obj, 'mask', path))
        if mask.ndim == 2 and mask.size > 1:
            shape = mask.shape
        if int(_scalar(_struct_field(obj, 'class_ind', path))) != \
                person_class:
            continue
        parts = np.asarray(_struct_field(obj, 'parts', path)).reshape(-1)
        if parts.size == 0:
            continue
        if target is None:
            target = np.zeros(mask.shape, dtype=np.int64)
        for part in parts:
            name = _scalar(_struct_field(part, 'part_name', path))
            if name not in grouping:
                raise AnnotationError(
                    f'{path}: unknown person part {name!r}; known parts '
                    f'are {sorted(grouping)}')
            part_mask = np.asarray(_struct_field(part, 'mask', path))
            target[part_mask.astype(bool)] = grouping[name]
    if target is not None:
        return target
    if shape is None:
        if img_path is None:
            raise AnnotationError(
                f'{path}: no object masks to take the image size from; '
                'give image_shape or img_path')
        shape = read_image_file(img_path).shape[:2]
    return np.full(tuple(shape), no_person_value, dtype=np.int64)


def _label_map(mat: Mapping, path: str, key: str = 'LabelMap') -> np.ndarray:
    if key not in mat:
        variables = sorted(k for k in mat if not k.startswith('__'))
        raise AnnotationError(f'{path}: .mat variable {key!r} not found; '
                              f'the file holds {variables}')
    labels = np.asarray(mat[key])
    if labels.ndim != 2:
        raise AnnotationError(f'{path}: {key} has shape {labels.shape}; '
                              'expected (H, W)')
    return labels


def parse_label_map_edges(mat: Mapping, path: str = '<.mat>',
                          key: str = 'LabelMap') -> np.ndarray:
    """Edge map of the Context ``LabelMap`` (see
    :func:`~mmmtl.utils.boundary_morphology.label_map_edges`).

    Args:
        mat (Mapping): ``scipy.io.loadmat`` output.
        path (str): File path, for messages.
        key (str): Variable holding the label map.

    Returns:
        np.ndarray: (H, W) int64 {0, 1}.
    """
    return label_map_edges(_label_map(mat, path, key))


def decode_png_normals(raw: np.ndarray) -> np.ndarray:
    """8-bit RGB normals -> float32 vectors ``2 v / 255 - 1`` (no masking)."""
    return 2.0 * raw.astype(np.float32) / 255.0 - 1.0


def parse_masked_normals(mat: Mapping, normals_path: str,
                         path: str = '<.mat>',
                         valid_classes: Optional[Iterable[int]] = None,
                         key: str = 'LabelMap') -> np.ndarray:
    """Distilled normals, valid only on NYU-compatible Context classes.

    Reads the RGB PNG ``normals_path``, decodes ``n = 2 v / 255 - 1`` per
    channel (R = x, G = y, B = z, as stored) and zeroes (= invalid) every
    pixel whose ``LabelMap`` class is not in ``valid_classes``.

    Args:
        mat (Mapping): ``scipy.io.loadmat`` of the Context ``.mat`` file.
        normals_path (str): The ``normals_distill/<id>.png`` file.
        path (str): The ``.mat`` path, for messages.
        valid_classes (Iterable[int], optional): Valid ``LabelMap`` values;
            :data:`NORMALS_VALID_CONTEXT_CLASSES` by default.
        key (str): Variable holding the label map.

    Returns:
        np.ndarray: (H, W, 3) float32, zero vectors where invalid.
    """
    labels = _label_map(mat, path, key)
    raw = read_image_file(normals_path, channel_order='rgb')
    if raw.ndim != 3 or raw.shape[2] != 3:
        raise AnnotationError(f'{normals_path}: normals image has shape '
                              f'{raw.shape}; expected (H, W, 3)')
    if raw.shape[:2] != labels.shape:
        raise AnnotationError(
            f'{normals_path}: normals are {raw.shape[0]}x{raw.shape[1]} but '
            f'the LabelMap of {path} is {labels.shape[0]}x{labels.shape[1]}')
    classes = NORMALS_VALID_CONTEXT_CLASSES if valid_classes is None \
        else valid_classes
    valid = np.isin(labels, np.asarray(list(classes)))
    normals = decode_png_normals(raw)
    normals[~valid] = 0.0
    return normals


def context_classes_valid_for_normals(
        context_classes: Mapping[str, int],
        nyu_classes: Iterable[str],
        extra: Sequence[str] = ('tvmonitor', )) -> Tuple[int, ...]:
    """Recompute the valid-class list from two class-name tables.

    Args:
        context_classes (Mapping[str, int]): PASCAL-Context name -> label.
        nyu_classes (Iterable[str]): NYUv2 class names.
        extra (Sequence[str]): Context names added by hand.

    Returns:
        tuple[int]: Sorted ``LabelMap`` values.
    """
    valid = {context_classes[name] for name in nyu_classes
             if name in context_classes and name != 'unknown'}
    valid.update(context_classes[name] for name in extra)
    return tuple(sorted(valid))
