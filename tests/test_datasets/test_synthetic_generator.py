"""The synthetic generator: exact, consistent, deterministic, atomic."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmmtl.datasets import synthetic_generator as gen
from mmmtl.datasets.synthetic_generator import (HUMAN_PARTS_CLASSES,
                                                SEMSEG_CLASSES,
                                                generate_synthetic_dataset,
                                                render_scene)


def scene(seed=0, h=48, w=64):
    return render_scene(np.random.default_rng(seed), h, w)


def test_scene_shapes_and_ranges():
    s = scene()
    assert s['image'].shape == (48, 64, 3) and s['image'].dtype == np.uint8
    assert s['semseg'].max() < len(SEMSEG_CLASSES)
    assert s['human_parts'].max() < len(HUMAN_PARTS_CLASSES)
    assert set(np.unique(s['edge'])) <= {0, 1}
    assert set(np.unique(s['saliency'])) <= {0, 1}
    valid = s['depth'] > 0
    assert valid.mean() > 0.8
    assert np.all(s['depth'][valid] < 20)


def test_labels_are_consistent_across_tasks():
    for seed in range(5):
        s = scene(seed)
        objects = s['semseg'] >= gen.BOX
        # saliency is exactly the objects; parts are background elsewhere
        np.testing.assert_array_equal(s['saliency'] == 1, objects)
        np.testing.assert_array_equal(s['human_parts'] == 0, ~objects)
        # parts belong to the object kind of the semantic label
        kind_of_part = {1: gen.BOX, 2: gen.BOX, 3: gen.CYLINDER,
                        4: gen.CYLINDER, 5: gen.SPHERE, 6: gen.SPHERE}
        for part, kind in kind_of_part.items():
            assert np.all(s['semseg'][s['human_parts'] == part] == kind)
        # depth and normals are invalid together
        valid_n = np.any(s['normals'] != 0, axis=-1)
        np.testing.assert_array_equal(valid_n, s['depth'] > 0)


def test_normals_are_unit_and_face_the_camera():
    s = scene(3)
    n = s['normals']
    valid = np.any(n != 0, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(n[valid], axis=-1), 1,
                               atol=1e-5)
    # floor pixels: normals point up in the camera frame (negative y)
    floor = (s['semseg'] == gen.FLOOR) & valid
    assert floor.any() and np.all(n[floor][:, 1] < 0)
    # facing the camera: a positive-z normal would point away from it
    h, w = n.shape[:2]
    rays = gen.camera_rays(h, w, s['focal']).reshape(h, w, 3)
    assert np.all(np.einsum('ij,ij->i', n[valid], rays[valid]) <= 1e-6)


def test_box_top_faces_up_and_sphere_halves_split_by_height():
    rays = gen.camera_rays(40, 40, 40.0) @ gen.rotation_yaw_pitch(
        0.0, 0.6).T
    box = gen.intersect_box(rays, np.array([0.0, 1.0, 3.0]),
                            np.array([0.4, 0.2, 0.4]), 0.3)
    top = box.part == gen.BOX_TOP
    assert top.any()
    np.testing.assert_allclose(box.normal[top], [[0, -1, 0]] * top.sum(),
                               atol=1e-9)
    sphere = gen.intersect_sphere(rays, np.array([0.0, 1.0, 3.0]), 0.5)
    hit = np.isfinite(sphere.t)
    points = rays[hit] * sphere.t[hit, None]
    np.testing.assert_allclose(
        np.linalg.norm(points - [0.0, 1.0, 3.0], axis=1), 0.5, atol=1e-9)
    upper = sphere.part[hit] == gen.SPHERE_UPPER
    assert np.all(points[upper, 1] < 1.0) and np.all(points[~upper, 1] >= 1)


def test_depth_is_camera_z_of_the_hit_point():
    # a fronto-parallel wall at z = 4 has depth 4 at every pixel
    rays = gen.camera_rays(8, 10, 10.0)
    wall = gen.intersect_plane(rays, 2, 4.0, -1.0)
    np.testing.assert_allclose(wall.t, 4.0)


def test_edges_are_instance_boundaries():
    instance = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3]])
    np.testing.assert_array_equal(
        gen.instance_edges(instance),
        [[0, 1, 0], [1, 1, 1], [0, 0, 0]])


def test_dataset_layout_round_trip_and_determinism(tmp_path):
    a = generate_synthetic_dataset(str(tmp_path / 'a'), num_train=3,
                                   num_val=2, height=32, width=40, seed=5,
                                   num_workers=1)
    b = generate_synthetic_dataset(str(tmp_path / 'b'), num_train=3,
                                   num_val=2, height=32, width=40, seed=5,
                                   num_workers=2)
    with open(osp.join(a, 'splits', 'val.txt')) as f:
        assert f.read().split() == ['000003', '000004']
    meta = json.load(open(osp.join(a, 'meta.json')))
    assert meta['num_train'] == 3 and meta['seed'] == 5
    for folder in gen.FOLDERS:
        for name in ('000000', '000004'):
            fa = cv2.imread(osp.join(a, folder, f'{name}.png'),
                            cv2.IMREAD_UNCHANGED)
            fb = cv2.imread(osp.join(b, folder, f'{name}.png'),
                            cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(fa, fb)  # workers don't matter
    # files decode back to the rendered values
    expected = render_scene(np.random.default_rng([5, 1, 1]), 32, 40)
    depth = cv2.imread(osp.join(a, 'depth', '000004.png'),
                       cv2.IMREAD_UNCHANGED)
    np.testing.assert_allclose(depth / 1000.0, expected['depth'], atol=5e-4)
    normals = cv2.imread(osp.join(a, 'normals', '000004.png'),
                         cv2.IMREAD_UNCHANGED)[..., ::-1]
    valid = expected['depth'] > 0
    np.testing.assert_allclose(normals[valid] / 65535 * 2 - 1,
                               expected['normals'][valid], atol=1e-4)
    assert np.all(normals[~valid] == 0)


def test_refuses_existing_folder_and_bad_arguments(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_synthetic_dataset(str(root), num_train=1, num_val=1,
                                   height=16, width=16)
    with pytest.raises(ValueError, match='num_val must be an integer >= 1'):
        generate_synthetic_dataset(str(tmp_path / 'x'), num_train=1,
                                   num_val=0)


def test_interrupted_generation_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return gen.sample_id(job[3][0])

    monkeypatch.setattr(gen, '_write_sample', failing)
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic_dataset(str(tmp_path / 'data'), num_train=3,
                                   num_val=1, height=16, width=16,
                                   num_workers=1)
    assert os.listdir(tmp_path) == []


def discontinuity(s, a, b):
    """Semantic class, depth (> 1 %) or normal (> 2.6 deg) change a -> b."""
    sem, depth, n = s['semseg'], s['depth'], s['normals']
    return (sem[a] != sem[b]) | (
        np.abs(depth[a] - depth[b]) > 0.01 * depth[a]) | (
            np.einsum('ijk,ijk->ij', n[a], n[b]) < 0.999)


def test_edges_lie_on_semantic_or_geometric_discontinuities():
    for seed in range(3):
        s = scene(seed, 64, 80)
        edge = s['edge'][:-1, :-1].astype(bool)
        assert edge.any()
        here = (slice(0, -1), slice(0, -1))
        right = discontinuity(s, here, (slice(0, -1), slice(1, None)))
        down = discontinuity(s, here, (slice(1, None), slice(0, -1)))
        depth = s['depth']
        valid = (depth[:-1, :-1] > 0) & (depth[:-1, 1:] > 0) & \
            (depth[1:, :-1] > 0)
        assert np.all((right | down)[edge & valid])
        # and every semantic boundary is marked
        sem = s['semseg']
        sem_change = (sem[:-1, :-1] != sem[:-1, 1:]) | \
            (sem[:-1, :-1] != sem[1:, :-1])
        assert sem_change.any() and np.all(edge[sem_change])
