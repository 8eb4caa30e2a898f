"""Boundary F-measure: thinning, NMS, matching and ODS/OIS/AP on hand cases.

Images are 24x32 so the diagonal is exactly 40 px: ``max_dist=0.03`` is a
1.2 px tolerance (a 1 px shift matches, a diagonal step of 1.41 px or a 2 px
shift does not).
"""
import numpy as np
import pytest

from mmmtl.evaluation.functional.boundary_f import (BOUNDARY_PROTOCOLS,
                                                    BoundaryFAccumulator,
                                                    average_precision,
                                                    best_image_counts,
                                                    boundary_pr_counts,
                                                    boundary_scores,
                                                    default_thresholds,
                                                    edge_nms,
                                                    match_boundaries,
                                                    protocol_options)
from mmmtl.evaluation.functional.boundary_kernels import (hopcroft_karp,
                                                          thin_fast)
from mmmtl.utils.boundary_morphology import (label_map_edges, seg2bmap,
                                              thin)

H, W = 24, 32


def vline(col, value=1.0, rows=slice(None)):
    image = np.zeros((H, W))
    image[rows, col] = value
    return image


def test_thresholds_are_seism_grid():
    t = default_thresholds(99)
    assert t.size == 99
    assert t[0] == pytest.approx(0.01) and t[-1] == pytest.approx(0.99)


def test_thin_keeps_lines_and_thins_bars():
    line = vline(10) > 0
    np.testing.assert_array_equal(thin(line), line)
    bar = np.zeros((H, W), bool)
    bar[5:8, 3:21] = True
    out = thin(bar)
    assert not (out & ~bar).any()
    # One pixel per column away from the bar's ends, all 8-connected.
    assert (out[:, 6:18].sum(axis=0) == 1).all()
    # Hand-derived: a 2-wide vertical band keeps its left column (the right
    # one meets G1, G2 and G3 in the first subiteration); the top-left
    # pixel also goes in that subiteration, the bottom one stays.
    band = np.zeros((H, W), bool)
    band[:, 15:17] = True
    expected = np.zeros((H, W), bool)
    expected[1:, 15] = True
    np.testing.assert_array_equal(thin(band), expected)


def test_label_map_edges_and_seg2bmap():
    labels = np.ones((H, W), np.uint16)
    labels[:, 16:] = 2
    edges = label_map_edges(labels)
    expected = np.zeros((H, W), np.int64)
    expected[1:, 15] = 1
    np.testing.assert_array_equal(edges, expected)
    bmap = seg2bmap(labels)
    assert bmap[:, 15].all() and bmap.sum() == H


def test_nms_keeps_the_ridge():
    prob = vline(9, 0.5) + vline(10, 1.0) + vline(11, 0.5)
    out = edge_nms(prob)
    assert np.count_nonzero(out[:, 9]) == 0
    assert np.count_nonzero(out[:, 11]) == 0
    # Rows 5..18 are outside the 5 px border ramp: value kept exactly.
    np.testing.assert_allclose(out[5:19, 10], 1.0)
    np.testing.assert_allclose(out[:5, 10], [0, 0.2, 0.4, 0.6, 0.8])


@pytest.mark.parametrize('method', ['bipartite', 'distance'])
def test_perfect_and_shifted_matches(method):
    gt = vline(10) > 0
    assert match_boundaries(gt, gt, 1.2, method) == (H, H)
    assert match_boundaries(vline(11) > 0, gt, 1.2, method) == (H, H)
    assert match_boundaries(vline(12) > 0, gt, 1.2, method) == (0, 0)


def test_one_to_one_versus_many_to_one():
    gt = vline(10) > 0
    double = (vline(9) + vline(11)) > 0
    # Each GT pixel has two candidates (left/right, diagonals are 1.41 px
    # away): one-to-one matches 24 pairs, many-to-one all 48 predictions.
    assert match_boundaries(double, gt, 1.2, 'bipartite') == (H, H)
    assert match_boundaries(double, gt, 1.2, 'distance') == (2 * H, H)


def test_counts_and_scores_perfect_prediction():
    gt = vline(10).astype(np.int64)
    counts = boundary_pr_counts(vline(10, 0.905), gt, max_dist=0.03,
                                nms=False)
    # thresholds 0.01 .. 0.90 predict the line, 0.91 .. 0.99 nothing.
    np.testing.assert_array_equal(counts[:90], [[H, H, H, H]] * 90)
    np.testing.assert_array_equal(counts[90:], [[0, H, 0, 0]] * 9)
    scores = boundary_scores(counts, best_image_counts(counts))
    assert scores['odsF'] == 1.0 and scores['oisF'] == 1.0
    assert scores['ods_threshold'] == pytest.approx(0.01)
    # PR points (R=1, P=1) and (R=0, P=1): 101 samples of 1 / 100 (SEISM).
    assert scores['AP'] == pytest.approx(1.01)


def test_shift_within_and_beyond_tolerance():
    gt = vline(10).astype(np.int64)
    near = boundary_pr_counts(vline(11), gt, max_dist=0.03, nms=False)
    far = boundary_pr_counts(vline(12), gt, max_dist=0.03, nms=False)
    assert boundary_scores(near)['odsF'] == 1.0
    assert boundary_scores(far)['odsF'] == 0.0
    # SEISM's default tolerance (0.0075 * 40 = 0.3 px) rejects 1 px.
    tight = boundary_pr_counts(vline(11), gt, max_dist=0.0075, nms=False)
    assert boundary_scores(tight)['odsF'] == 0.0


def test_double_edges_bipartite_f():
    gt = vline(10).astype(np.int64)
    pred = vline(9) + vline(11)
    exact = boundary_scores(boundary_pr_counts(
        pred, gt, max_dist=0.03, nms=False, matching='bipartite'))
    approx = boundary_scores(boundary_pr_counts(
        pred, gt, max_dist=0.03, nms=False, matching='distance'))
    assert exact['odsF'] == pytest.approx(2 / 3)  # P = 24/48, R = 1
    assert approx['odsF'] == pytest.approx(1.0)


def test_full_protocol_with_nms_and_border_ramp():
    gt = vline(10).astype(np.int64)
    prob = vline(9, 0.5) + vline(10, 1.0) + vline(11, 0.5)
    counts = boundary_pr_counts(prob, gt, max_dist=0.0075)
    # After NMS rows 0 and 23 are 0 and rows 1..22 are > 0.19: 22 exact
    # matches of 24 GT pixels -> P = 1, R = 22/24, F = 44/46.
    np.testing.assert_array_equal(counts[0], [22, H, 22, 22])
    assert boundary_scores(counts)['odsF'] == pytest.approx(44 / 46)


def test_ignore_and_accumulator_over_images():
    gt = vline(10).astype(np.int64)
    gt[:, 20:] = 255  # ignored region: predictions there do not count
    pred = vline(10) + vline(25)
    acc = BoundaryFAccumulator(max_dist=0.03, nms=False)
    acc.update(pred, gt)
    # Second image: prediction on the GT plus a false line 5 px away.
    acc.update(vline(10) + vline(15), vline(10).astype(np.int64))
    np.testing.assert_array_equal(acc.total[0], [2 * H, 2 * H, 2 * H, 3 * H])
    scores = acc.compute()
    assert scores['odsF'] == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert scores['oisF'] == pytest.approx(scores['odsF'])
    assert acc.num_images == 2


def test_empty_cases_follow_seism_conventions():
    empty = np.zeros((H, W), np.int64)
    counts = boundary_pr_counts(vline(10), empty, thresholds=3, nms=False)
    np.testing.assert_array_equal(counts, [[0, 0, 0, H]] * 3)
    scores = boundary_scores(counts, thresholds=3)
    assert scores['odsF'] == 0.0  # no GT: R = 1, P = 0
    assert average_precision(np.array([1.0]), np.array([1.0])) == 0.0
    with pytest.raises(ValueError, match='matching'):
        match_boundaries(vline(1) > 0, vline(1) > 0, 1.0, 'greedy')


def test_multitask_metric_reports_edge_ods_f():
    import torch

    from mmmtl.evaluation import MultiTaskMetric
    from mmmtl.structures import MultiTaskDataSample

    gt = torch.zeros(1, 24, 32, dtype=torch.long)
    gt[0, 12, 4:28] = 1
    gt[0, 0, :] = 255  # ignored row
    metric = MultiTaskMetric(
        tasks=['edge'],
        extra_statistics=dict(edge=[dict(type='BoundaryFStatistic',
                                         thresholds=9, max_dist=0.03)]))
    for shift in (0, 1):  # exact, then 1 px off (within 0.03 * 40 = 1.2)
        sample = MultiTaskDataSample()
        sample.set_gt('edge', gt)
        sample.set_pred('edge', torch.roll(gt.clamp(max=1), shift,
                                           dims=1).float() * 0.9)
        metric.process({}, [sample])
    result = metric.evaluate(2)
    assert result['edge/odsF'] == pytest.approx(100.0)
    assert result['edge/oisF'] == pytest.approx(100.0)
    assert 'edge/loss' in result


# --------------------------------------------------------------------------
# protocols, compiled kernels and the exact all-threshold matching
# --------------------------------------------------------------------------
def test_thresholds_are_the_exact_decimal_doubles():
    # SEISM reads '%.2f' strings: 0.2 must be the double 0.2, which equals
    # the 8-bit level 51 / 255.
    t = default_thresholds(99)
    assert t.tolist() == [float(f'{k / 100:.2f}') for k in range(1, 100)]
    assert t[19] == 51 / 255


def test_quantize_png_truncates_like_uint8_cast():
    from mmmtl.evaluation.functional.boundary_f import quantize_png
    prob = np.array([[0.0, 0.2, 0.9999, 1.0, 0.00392]])
    # 255 p = 0, 51, 254.97, 255, 0.9996 -> uint8 0, 51, 254, 255, 0
    np.testing.assert_array_equal(quantize_png(prob) * 255,
                                  [[0, 51, 254, 255, 0]])


def test_seism_and_toolbox_protocols_differ_at_equality():
    """A line at exactly 0.2 (= 51/255): 'toolbox' (>=) predicts it at
    t = 0.2, 'seism' (>) does not; with NMS off for both, only the
    comparison differs."""
    gt = vline(10).astype(np.int64)
    pred = vline(10, 51 / 255)
    toolbox = boundary_pr_counts(pred, gt, max_dist=0.03,
                                 **protocol_options('toolbox'))
    seism = boundary_pr_counts(pred, gt, max_dist=0.03,
                               **protocol_options('seism', nms=False))
    # thresholds 0.01..0.19 (k < 20) predict the line under both
    np.testing.assert_array_equal(toolbox[:19], seism[:19])
    np.testing.assert_array_equal(toolbox[19], [H, H, H, H])  # t = 0.20
    np.testing.assert_array_equal(seism[19], [0, H, 0, 0])
    assert BOUNDARY_PROTOCOLS['seism']['nms'] and \
        not BOUNDARY_PROTOCOLS['toolbox']['nms']
    with pytest.raises(ValueError, match='protocol'):
        protocol_options('bsds')
    with pytest.raises(ValueError, match='comparison'):
        boundary_pr_counts(pred, gt, comparison='=>')


def test_thin_fast_equals_thin():
    rng = np.random.default_rng(0)
    for density in (0.05, 0.3, 0.7):
        binary = rng.random((H, W)) < density
        np.testing.assert_array_equal(thin_fast(binary), thin(binary))
        np.testing.assert_array_equal(thin_fast(binary, 1), thin(binary, 1))
    assert not thin_fast(np.zeros((H, W))).any()


def test_hopcroft_karp_matches_scipy_and_hand_cases():
    from scipy.sparse import random as sparse_random
    from scipy.sparse.csgraph import maximum_bipartite_matching
    # Hand case: left 0 - {0, 1}, left 1 - {0}: greedy takes 0-0, the
    # augmenting path 1 -> 0 -> 0 -> 1 gives the perfect matching.
    indptr = np.array([0, 2, 3])
    indices = np.array([0, 1, 0])
    match = hopcroft_karp(indptr, indices, 2)
    assert match.tolist() == [1, 0]
    rng = np.random.default_rng(1)
    for trial in range(20):
        graph = sparse_random(40, 30, density=rng.uniform(0.02, 0.2),
                              format='csr', random_state=trial)
        expected = (maximum_bipartite_matching(
            graph, perm_type='column') >= 0).sum()
        match = hopcroft_karp(graph.indptr, graph.indices, 30)
        assert (match >= 0).sum() == expected
        # a valid matching: edges of the graph, distinct right vertices
        rows = np.flatnonzero(match >= 0)
        assert len(set(match[rows].tolist())) == rows.size
        assert all(graph[r, match[r]] != 0 for r in rows)
        # warm start from a partial matching gives the same size
        start = match.copy()
        start[::2] = -1
        again = hopcroft_karp(graph.indptr, graph.indices, 30, start)
        assert (again >= 0).sum() == expected


@pytest.mark.parametrize('protocol', ['seism', 'toolbox'])
def test_fast_exact_counts_equal_the_per_threshold_reference(protocol):
    """All-threshold warm-started matching == SciPy from scratch per
    threshold, on random maps dense enough for long augmenting paths."""
    from mmmtl.evaluation.functional.boundary_f import quantize_png
    rng = np.random.default_rng(3)
    gt = np.zeros((H, W), np.int64)
    gt[6, 2:30] = 1
    gt[3:21, 20] = 1
    gt[18, 4:16] = 1
    pred = np.clip(rng.random((H, W)) * 0.6 + 0.4 * np.roll(gt, 1, 0), 0, 1)
    options = protocol_options(protocol)
    max_dist = 0.05  # 2 px: many crossing candidate edges
    counts = boundary_pr_counts(pred, gt, 19, max_dist=max_dist, **options)
    values = quantize_png(pred)
    if options['nms']:
        values = edge_nms(values)
    gt_bin = thin(gt != 0)
    for k, t in enumerate(default_thresholds(19)):
        binary = thin(values > t if options['comparison'] == '>' else
                      values >= t)
        cnt_p, cnt_r = match_boundaries(binary, gt_bin, max_dist * 40,
                                        'bipartite')
        assert tuple(counts[k]) == (cnt_r, int(gt_bin.sum()), cnt_p,
                                    int(binary.sum())), t
    assert counts[:, 0].max() > 0


def test_statistic_protocol_options_and_errors():
    from mmmtl.evaluation.functional import BoundaryFStatistic
    stat = BoundaryFStatistic('edge', protocol='seism', max_dist=0.011)
    assert stat.options['matching'] == 'bipartite'
    assert stat.options['quantize'] and stat.options['comparison'] == '>'
    fast = BoundaryFStatistic('edge', protocol='seism', matching='distance')
    assert fast.options['matching'] == 'distance' and fast.options['nms']
    with pytest.raises(ValueError, match='protocol'):
        BoundaryFStatistic('edge', protocol='matlab')
    with pytest.raises(ValueError, match='matching'):
        BoundaryFStatistic('edge', protocol='seism', matching='greedy')
    with pytest.raises(TypeError, match='unknown options'):
        BoundaryFStatistic('edge', nms_radius=2)
