# Copyright (c) mmmtl contributors. All rights reserved.
"""Procedural generator of the embedded synthetic multi-task dataset.

Every image is a ray-cast room seen by a pinhole camera: floor, ceiling, two
side walls and a back wall, with two to five boxes, spheres and vertical
cylinders standing on the floor. Because the scene is analytic, every task's
label is exact and consistent with the others:

* ``semseg``: floor, wall, ceiling, box, sphere, cylinder (6 classes).
* ``depth``: z-depth in the camera frame (metres), as NYUD stores it, with
  a few elliptic "sensor drop-out" holes marked invalid (0), as real depth
  sensors have.
* ``normals``: unit surface normals in the OpenCV camera frame (x right,
  y down, z forward) facing the camera; invalid (0) where depth is.
* ``edge``: 1-pixel boundaries between surfaces and objects (instance
  boundaries of the label map, as PASCAL-Context edges are derived).
* ``saliency``: the objects (foreground) against the room (background).
* ``human_parts``: parts of the objects — box top / sides, cylinder cap /
  side, sphere upper / lower half — and background (7 classes); it plays
  the role PASCAL's human parts play: a part segmentation of some objects.

The image is shaded (Lambert + ambient, one directional light) with random
colours and textures (checkered floor, striped walls) and sensor noise, so
a network must use shape and shading, not colour alone.

Folder layout (``root``)::

    meta.json                  generator settings, classes, encodings
    splits/{train,val}.txt     sample ids, one per line
    images/<id>.png            RGB uint8
    semseg/<id>.png            uint8 class ids
    depth/<id>.png             uint16 millimetres, 0 = invalid
    normals/<id>.png           uint16 RGB = round((n + 1) / 2 * 65535),
                               (0, 0, 0) = invalid
    edge/<id>.png              uint8 {0, 1}
    saliency/<id>.png          uint8 {0, 255}
    human_parts/<id>.png       uint8 part ids

Ids are 6-digit numbers; validation ids continue after the training ids.
Each image is drawn from its own generator seeded with
``(seed, split_index, image_index)``, so the data does not depend on the
number of worker processes. The dataset is written to a temporary sibling
folder and renamed into place at the end, so an interrupted generation
never leaves a half-written dataset behind.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np

SEMSEG_CLASSES = ('floor', 'wall', 'ceiling', 'box', 'sphere', 'cylinder')
HUMAN_PARTS_CLASSES = ('background', 'box_top', 'box_side', 'cylinder_cap',
                       'cylinder_side', 'sphere_upper', 'sphere_lower')
FOLDERS = ('images', 'semseg', 'depth', 'normals', 'edge', 'saliency',
           'human_parts')
SPLITS = ('train', 'val')
DEPTH_SCALE = 1000.0  # stored value per metre
GENERATOR_VERSION = 1

FLOOR, WALL, CEILING, BOX, SPHERE, CYLINDER = range(6)
(BACKGROUND, BOX_TOP, BOX_SIDE, CYLINDER_CAP, CYLINDER_SIDE, SPHERE_UPPER,
 SPHERE_LOWER) = range(7)


@dataclass
class Hit:
    """Closest intersection of every ray with one primitive.

    Attributes:
        t (np.ndarray): (N,) ray parameter (= camera z-depth), ``inf`` where
            the ray misses.
        normal (np.ndarray): (N, 3) world-frame unit normal.
        part (np.ndarray): (N,) part id (:data:`HUMAN_PARTS_CLASSES`).
    """
    t: np.ndarray
    normal: np.ndarray
    part: np.ndarray


# --------------------------------------------------------------------- #
# Geometry: rays and primitives (world frame, y down, camera at origin)
# --------------------------------------------------------------------- #
def rotation_yaw_pitch(yaw: float, pitch: float) -> np.ndarray:
    """Camera-to-world rotation: pitch down by ``pitch``, then yaw.

    Returns:
        np.ndarray: (3, 3) matrix mapping camera to world directions.
    """
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    pitch_m = np.array([[1, 0, 0], [0, cp, sp], [0, -sp, cp]])
    yaw_m = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return yaw_m @ pitch_m


def camera_rays(height: int, width: int, focal: float) -> np.ndarray:
    """(H*W, 3) camera-frame ray directions with unit z component.

    With ``d_z = 1`` the ray parameter of a hit is its camera z-depth.
    """
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    x = (u + 0.5 - width / 2) / focal
    y = (v + 0.5 - height / 2) / focal
    return np.stack([x, y, np.ones_like(x)], axis=-1).reshape(-1, 3)


def _miss(n: int) -> Hit:
    return Hit(np.full(n, np.inf), np.zeros((n, 3)),
               np.full(n, BACKGROUND, np.int64))


def _closer(a: Hit, b: Hit) -> Hit:
    take = b.t < a.t
    return Hit(np.where(take, b.t, a.t),
               np.where(take[:, None], b.normal, a.normal),
               np.where(take, b.part, a.part))


def intersect_plane(rays: np.ndarray, axis: int, offset: float,
                    normal_sign: float) -> Hit:
    """Rays against the plane ``p[axis] = offset`` (normal along ``axis``)."""
    with np.errstate(divide='ignore', invalid='ignore'):
        t = offset / rays[:, axis]
    t = np.where(np.isfinite(t) & (t > 0), t, np.inf)
    normal = np.zeros((len(rays), 3))
    normal[:, axis] = normal_sign
    return Hit(t, normal, np.full(len(rays), BACKGROUND, np.int64))


def intersect_box(rays: np.ndarray, center: np.ndarray,
                  half: np.ndarray, yaw: float) -> Hit:
    """Rays against a box rotated by ``yaw`` about the vertical axis.

    Args:
        rays (np.ndarray): (N, 3) world directions from the origin.
        center (np.ndarray): (3,) box centre.
        half (np.ndarray): (3,) half extents in the box frame.
        yaw (float): Rotation about the y axis.
    """
    rot = rotation_yaw_pitch(yaw, 0.0)
    origin = rot.T @ (-center)
    local = rays @ rot  # rows: rot.T @ d
    with np.errstate(divide='ignore', invalid='ignore'):
        t1 = (-half - origin) / local
        t2 = (half - origin) / local
    near = np.nan_to_num(np.minimum(t1, t2), nan=-np.inf)
    far = np.nan_to_num(np.maximum(t1, t2), nan=np.inf)
    axis = near.argmax(axis=1)
    t_near = near.max(axis=1)
    hit = (t_near <= far.min(axis=1)) & (t_near > 0)
    rows = np.arange(len(rays))
    normal_local = np.zeros_like(local)
    normal_local[rows, axis] = -np.sign(local[rows, axis])
    part = np.where((axis == 1) & (normal_local[:, 1] < 0), BOX_TOP,
                    BOX_SIDE)
    return Hit(np.where(hit, t_near, np.inf), normal_local @ rot.T, part)


def intersect_sphere(rays: np.ndarray, center: np.ndarray,
                     radius: float) -> Hit:
    """Rays against a sphere (front surface)."""
    a = np.einsum('ij,ij->i', rays, rays)
    b = rays @ center
    c = center @ center - radius**2
    disc = b**2 - a * c
    with np.errstate(invalid='ignore'):
        t = (b - np.sqrt(disc)) / a
    t = np.where((disc >= 0) & (t > 0), t, np.inf)
    point = rays * np.where(np.isfinite(t), t, 0)[:, None]
    normal = (point - center) / radius
    part = np.where(point[:, 1] < center[1], SPHERE_UPPER, SPHERE_LOWER)
    return Hit(t, normal, part)


def intersect_cylinder(rays: np.ndarray, base: np.ndarray, radius: float,
                       height: float) -> Hit:
    """Rays against a vertical cylinder standing on ``base`` (its bottom
    centre; y points down, so the top cap is at ``base[1] - height``)."""
    dx, dy, dz = rays.T
    cx, floor_y, cz = base
    top_y = floor_y - height
    a = dx**2 + dz**2
    b = dx * cx + dz * cz
    c = cx**2 + cz**2 - radius**2
    disc = b**2 - a * c
    with np.errstate(invalid='ignore', divide='ignore'):
        t_side = (b - np.sqrt(disc)) / a
    y_side = dy * t_side
    side_ok = (disc >= 0) & (t_side > 0) & (y_side >= top_y) & \
        (y_side <= floor_y)
    side = Hit(np.where(side_ok, t_side, np.inf), np.zeros((len(rays), 3)),
               np.full(len(rays), CYLINDER_SIDE, np.int64))
    safe_t = np.where(side_ok, t_side, 0)
    side.normal[:, 0] = (dx * safe_t - cx) / radius
    side.normal[:, 2] = (dz * safe_t - cz) / radius
    with np.errstate(divide='ignore', invalid='ignore'):
        t_cap = top_y / dy
    safe_cap = np.where(np.isfinite(t_cap), t_cap, 0)
    inside = (dx * safe_cap - cx)**2 + (dz * safe_cap - cz)**2 <= radius**2
    cap = Hit(np.where(inside & (t_cap > 0), t_cap, np.inf),
              np.tile([0.0, -1.0, 0.0], (len(rays), 1)),
              np.full(len(rays), CYLINDER_CAP, np.int64))
    return _closer(side, cap)


# --------------------------------------------------------------------- #
# Scene sampling and rendering
# --------------------------------------------------------------------- #
def sample_room(rng: np.random.Generator) -> Dict[str, float]:
    """Random room extents around the camera (metres; y points down)."""
    return dict(floor=rng.uniform(1.1, 1.6), ceiling=-rng.uniform(1.0, 1.6),
                left=-rng.uniform(1.8, 3.2), right=rng.uniform(1.8, 3.2),
                back=rng.uniform(5.0, 8.0))


def render_room(rays: np.ndarray, room: Dict[str, float]
                ) -> Tuple[Hit, np.ndarray, np.ndarray]:
    """Room surfaces: hit, semantic class and instance id per ray."""
    surfaces = [  # (axis, offset, normal sign, class)
        (1, room['floor'], -1.0, FLOOR), (1, room['ceiling'], 1.0, CEILING),
        (0, room['left'], 1.0, WALL), (0, room['right'], -1.0, WALL),
        (2, room['back'], -1.0, WALL)
    ]
    hit = _miss(len(rays))
    label = np.full(len(rays), WALL, np.int64)
    instance = np.zeros(len(rays), np.int64)
    for index, (axis, offset, sign, cls) in enumerate(surfaces):
        new = intersect_plane(rays, axis, offset, sign)
        take = new.t < hit.t
        hit = _closer(hit, new)
        label[take] = cls
        instance[take] = index + 1
    return hit, label, instance


def sample_objects(rng: np.random.Generator,
                   room: Dict[str, float]) -> List[dict]:
    """Two to five boxes / spheres / cylinders standing on the floor."""
    objects = []
    for _ in range(rng.integers(2, 6)):
        kind = int(rng.choice([BOX, SPHERE, CYLINDER]))
        x = rng.uniform(room['left'] + 0.6, room['right'] - 0.6)
        z = rng.uniform(1.8, room['back'] - 0.8)
        colour = rng.uniform(0.15, 1.0, size=3)
        if kind == BOX:
            half = rng.uniform([0.15, 0.15, 0.15], [0.5, 0.6, 0.5])
            objects.append(dict(kind=kind, colour=colour, half=half,
                                yaw=rng.uniform(0, np.pi / 2),
                                center=np.array([x, room['floor'] - half[1],
                                                 z])))
        elif kind == SPHERE:
            radius = rng.uniform(0.2, 0.5)
            objects.append(dict(kind=kind, colour=colour, radius=radius,
                                center=np.array([x, room['floor'] - radius,
                                                 z])))
        else:
            objects.append(dict(kind=kind, colour=colour,
                                radius=rng.uniform(0.12, 0.4),
                                height=rng.uniform(0.3, 1.3),
                                base=np.array([x, room['floor'], z])))
    return objects


def intersect_object(rays: np.ndarray, obj: dict) -> Hit:
    """Dispatch to the primitive's intersection routine."""
    if obj['kind'] == BOX:
        return intersect_box(rays, obj['center'], obj['half'], obj['yaw'])
    if obj['kind'] == SPHERE:
        return intersect_sphere(rays, obj['center'], obj['radius'])
    return intersect_cylinder(rays, obj['base'], obj['radius'],
                              obj['height'])


def shade(rng: np.random.Generator, rays: np.ndarray, hit: Hit,
          label: np.ndarray, instance: np.ndarray,
          objects: List[dict]) -> np.ndarray:
    """(N, 3) RGB in [0, 1]: textured albedo x (ambient + Lambert) + noise."""
    points = rays * hit.t[:, None]
    albedo = np.empty((len(rays), 3))
    room_colours = {cls: rng.uniform(0.3, 0.9, size=3)
                    for cls in (FLOOR, WALL, CEILING)}
    for cls, colour in room_colours.items():
        albedo[label == cls] = colour
    tile = rng.uniform(0.3, 0.8)
    checker = (np.floor(points[:, 0] / tile) + np.floor(points[:, 2] / tile))
    floor = label == FLOOR
    albedo[floor] *= np.where(checker[floor] % 2 == 0, 1.0, 0.7)[:, None]
    stripes = np.sin(points[:, 1] * rng.uniform(4, 12)) > 0
    wall = label == WALL
    albedo[wall] *= np.where(stripes[wall], 1.0, 0.85)[:, None]
    for index, obj in enumerate(objects):
        albedo[instance == index + 10] = obj['colour']
    light = np.array([rng.uniform(-0.5, 0.5), 1.0, rng.uniform(0.2, 0.8)])
    light /= np.linalg.norm(light)  # direction the light travels (down)
    lambert = np.clip(hit.normal @ -light, 0, None)
    rgb = albedo * (0.35 + 0.65 * lambert)[:, None]
    rgb += rng.normal(0, 0.02, size=rgb.shape)
    return np.clip(rgb, 0, 1)


def instance_edges(instance: np.ndarray) -> np.ndarray:
    """(H, W) uint8 {0, 1}: pixels whose right or lower neighbour belongs to
    another surface or object (1-pixel-wide boundaries)."""
    edge = np.zeros(instance.shape, np.uint8)
    edge[:, :-1] |= (instance[:, :-1] != instance[:, 1:]).astype(np.uint8)
    edge[:-1, :] |= (instance[:-1, :] != instance[1:, :]).astype(np.uint8)
    return edge


def dropout_mask(rng: np.random.Generator, height: int,
                 width: int) -> np.ndarray:
    """(H, W) bool: zero to three elliptic holes of invalid depth."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(0, 4)):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(2, max(3, width // 10))),
                int(rng.integers(2, max(3, height // 10))))
        cv2.ellipse(mask, center, axes, float(rng.uniform(0, 180)), 0, 360,
                    1, -1)
    return mask.astype(bool)


def render_scene(rng: np.random.Generator, height: int,
                 width: int) -> Dict[str, np.ndarray]:
    """Render one random scene.

    Args:
        rng (np.random.Generator): Source of randomness.
        height (int): Image height.
        width (int): Image width.

    Returns:
        dict[str, np.ndarray]: ``image`` (H, W, 3) uint8 RGB; ``depth``
        (H, W) float32 metres (0 invalid); ``normals`` (H, W, 3) float32
        camera-frame unit vectors (0 invalid); ``semseg``, ``human_parts``
        (H, W) uint8 ids; ``edge`` (H, W) uint8 {0, 1}; ``saliency`` (H, W)
        uint8 {0, 1}; ``focal`` the focal length in pixels (principal point
        at the image centre).
    """
    focal = width * rng.uniform(0.8, 1.0)
    cam_rays = camera_rays(height, width, focal)
    cam_to_world = rotation_yaw_pitch(rng.uniform(-0.25, 0.25),
                                      rng.uniform(0.05, 0.35))
    rays = cam_rays @ cam_to_world.T
    room = sample_room(rng)
    hit, label, instance = render_room(rays, room)
    objects = sample_objects(rng, room)
    for index, obj in enumerate(objects):
        new = intersect_object(rays, obj)
        take = new.t < hit.t
        hit = _closer(hit, new)
        label[take] = obj['kind']
        instance[take] = index + 10
    image = shade(rng, rays, hit, label, instance, objects)
    normals = hit.normal @ cam_to_world  # rows: world -> camera
    facing = np.einsum('ij,ij->i', normals, cam_rays) > 0
    normals[facing] *= -1
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    shape = (height, width)
    invalid = dropout_mask(rng, height, width)
    depth = hit.t.reshape(shape).astype(np.float32)
    depth[invalid] = 0
    normals = normals.reshape(height, width, 3).astype(np.float32)
    normals[invalid] = 0
    instance = instance.reshape(shape)
    return dict(
        image=np.round(image.reshape(height, width, 3) * 255).astype(
            np.uint8),
        depth=depth,
        normals=normals,
        semseg=label.reshape(shape).astype(np.uint8),
        human_parts=hit.part.reshape(shape).astype(np.uint8),
        edge=instance_edges(instance),
        saliency=(instance >= 10).astype(np.uint8),
        focal=np.float64(focal))


# --------------------------------------------------------------------- #
# Encoding and writing
# --------------------------------------------------------------------- #
def encode_scene(scene: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """File arrays (OpenCV channel order) of a rendered scene, by folder."""
    depth = np.round(scene['depth'] * DEPTH_SCALE)
    if depth.max() > np.iinfo(np.uint16).max:
        raise ValueError('depth exceeds the uint16 millimetre range')
    normals = scene['normals']
    valid = np.any(normals != 0, axis=-1)
    encoded = np.round((normals + 1) / 2 * 65535).astype(np.uint16)
    encoded[~valid] = 0
    return dict(
        images=scene['image'][..., ::-1],
        semseg=scene['semseg'],
        depth=depth.astype(np.uint16),
        normals=encoded[..., ::-1],
        edge=scene['edge'],
        saliency=scene['saliency'] * np.uint8(255),
        human_parts=scene['human_parts'])


def sample_id(index: int) -> str:
    """The 6-digit id of the ``index``-th image of the dataset."""
    return f'{index:06d}'


def _write_sample(job: tuple) -> str:
    """Render and write one image (run in worker processes).

    Args:
        job (tuple): ``(root, seed, split_index, (global_index,
            local_index), height, width)``.

    Returns:
        str: The sample id.
    """
    root, seed, split_index, (global_index, local_index), height, width = job
    rng = np.random.default_rng([seed, split_index, local_index])
    arrays = encode_scene(render_scene(rng, height, width))
    name = sample_id(global_index)
    for folder, array in arrays.items():
        path = osp.join(root, folder, f'{name}.png')
        if not cv2.imwrite(path, np.ascontiguousarray(array)):
            raise OSError(f'could not write {path}')
    return name


def _jobs(root: str, num_train: int, num_val: int, seed: int, height: int,
          width: int) -> Iterator[tuple]:
    offset = 0
    for split_index, count in enumerate((num_train, num_val)):
        for local in range(count):
            yield (root, seed, split_index, (offset + local, local), height,
                   width)
        offset += count


def generate_synthetic_dataset(root: str,
                               num_train: int = 1000,
                               num_val: int = 200,
                               height: int = 128,
                               width: int = 160,
                               seed: int = 0,
                               num_workers: int = 2,
                               overwrite: bool = False,
                               progress: bool = False) -> str:
    """Generate the synthetic dataset into ``root`` atomically.

    Args:
        root (str): Output folder; must not exist unless ``overwrite``.
        num_train (int): Training images.
        num_val (int): Validation images.
        height (int): Image height.
        width (int): Image width.
        seed (int): Seed of the whole dataset.
        num_workers (int): Worker processes (0 or 1: in this process).
        overwrite (bool): Replace an existing ``root``.
        progress (bool): Show a progress bar.

    Returns:
        str: ``root``.
    """
    _check_arguments(num_train, num_val, height, width)
    root = osp.abspath(root)
    if osp.exists(root) and not overwrite:
        raise FileExistsError(f'{root} exists; pass overwrite=True (or '
                              '--overwrite) to replace it')
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp-', dir=parent)
    try:
        _fill(tmp, num_train, num_val, height, width, seed, num_workers,
              progress)
        if osp.exists(root):
            shutil.rmtree(root)
        os.rename(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root


def _check_arguments(num_train: int, num_val: int, height: int,
                     width: int) -> None:
    for name, value, low in (('num_train', num_train, 1),
                             ('num_val', num_val, 1), ('height', height, 16),
                             ('width', width, 16)):
        if int(value) != value or value < low:
            raise ValueError(f'{name} must be an integer >= {low}, got '
                             f'{value!r}')


def _fill(tmp: str, num_train: int, num_val: int, height: int, width: int,
          seed: int, num_workers: int, progress: bool) -> None:
    for folder in FOLDERS + ('splits', ):
        os.makedirs(osp.join(tmp, folder))
    jobs = list(_jobs(tmp, num_train, num_val, seed, height, width))
    names = list(_run(jobs, num_workers, progress))
    for split, split_names in zip(SPLITS, (names[:num_train],
                                           names[num_train:])):
        with open(osp.join(tmp, 'splits', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(split_names) + '\n')
    meta = dict(num_train=num_train, num_val=num_val, height=height,
                width=width, seed=seed, version=GENERATOR_VERSION,
                classes=SEMSEG_CLASSES,
                human_parts_classes=HUMAN_PARTS_CLASSES,
                depth_scale=DEPTH_SCALE, normals_encoding='uint16',
                normals_frame='opencv camera (x right, y down, z forward)')
    with open(osp.join(tmp, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)


def _run(jobs: List[tuple], num_workers: int,
         progress: bool) -> Iterator[str]:
    bar = _progress_bar(len(jobs)) if progress else None
    if num_workers <= 1:
        results = map(_write_sample, jobs)
        for name in results:
            _advance(bar)
            yield name
        return
    with ProcessPoolExecutor(num_workers) as pool:
        for name in pool.map(_write_sample, jobs, chunksize=16):
            _advance(bar)
            yield name


def _progress_bar(total: int) -> Optional[object]:
    from mmengine.utils import ProgressBar
    return ProgressBar(total)


def _advance(bar: Optional[object]) -> None:
    if bar is not None:
        bar.update()
