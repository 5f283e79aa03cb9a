"""Unit tests of core/global_model.py: the set anchoring, then the reference's per-image
anchoring (against its worked example and an independent dense implementation).

Statistics are generated from known gains and offsets, so that the exact answer is known: the
corrected images agree everywhere (one common gain and offset per band is all that is left)."""
import numpy as np
import pytest
import scipy.linalg

from core_helpers import assert_worked_example, reference_model
from core.footprints import connected_groups
from core.global_model import OverlapStats, overlap_seams, solve_model
from core.statistics import overlap_precision


def exact_model(links, gains, offsets, sizes=None, seed=0):
    """Statistics of images that show one scene through ``gain * v + offset``: per link the
    scene's mean and std over that overlap, seen by both images."""
    rng = np.random.default_rng(seed)
    count, bands = gains.shape
    pairs = []
    for p, (i, j) in enumerate(links):
        mean, std = rng.uniform(500, 3000, bands), rng.uniform(50, 400, bands)
        size = np.full(bands, 1000.0 if sizes is None else float(sizes[p]))
        pairs.append(OverlapStats(i, j, gains[i] * mean + offsets[i], gains[i] * std,
                                  gains[j] * mean + offsets[j], gains[j] * std, size))
    scene_mean, scene_std = rng.uniform(800, 2500, (count, bands)), rng.uniform(100, 500, (count, bands))
    return gains * scene_mean + offsets, gains * scene_std, pairs


def grid_links(rows, cols):
    """Neighbours and diagonals of a rows x cols grid of images (as tiles with 30 % overlap)."""
    links = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                if 0 <= r + dr < rows and 0 <= c + dc < cols:
                    links.append(tuple(sorted((k, (r + dr) * cols + c + dc))))
    return links


def distortion(count, bands, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.7, 1.3, (count, bands)), rng.uniform(-200, 200, (count, bands))


def assert_seamless(solution, gains, offsets, members, rtol=1e-9):
    """Corrected images of ``members`` share one gain and one offset per band."""
    common_gain = solution.scales[members] * gains[members]
    common_offset = solution.scales[members] * offsets[members] + solution.offsets[members]
    np.testing.assert_allclose(common_gain, common_gain[:1].repeat(len(members), 0), rtol=rtol)
    np.testing.assert_allclose(common_offset, common_offset[:1].repeat(len(members), 0),
                               rtol=rtol, atol=rtol * 1000)


def test_a_grid_that_differs_by_gains_and_offsets_comes_out_seamless_and_keeps_its_level():
    gains, offsets = distortion(9, 3)
    whole_mean, whole_std, pairs = exact_model(grid_links(3, 3), gains, offsets)
    solution = solve_model(np.ones(9, bool), whole_mean, whole_std, pairs)
    assert solution.converged and solution.unconstrained == []
    assert_seamless(solution, gains, offsets, np.arange(9))
    # the constraints hold exactly: mean of the corrected means and stds as before
    np.testing.assert_allclose((solution.scales * whole_mean + solution.offsets).mean(axis=0),
                               whole_mean.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose((solution.scales * whole_std).mean(axis=0),
                               whole_std.mean(axis=0), rtol=1e-12)
    before, after = overlap_seams(pairs, solution.scales, solution.offsets)
    assert np.abs(before).min() > 1.0
    assert np.abs(after).max() < 1e-8


def test_the_reference_anchoring_leaves_part_of_the_seam_on_the_same_grid():
    gains, offsets = distortion(9, 3)
    whole_mean, whole_std, pairs = exact_model(grid_links(3, 3), gains, offsets)
    reference = solve_model(np.ones(9, bool), whole_mean, whole_std, pairs, anchoring="per_image")
    before, after = overlap_seams(pairs, reference.scales, reference.offsets)
    assert np.abs(after).mean() > 0.1 * np.abs(before).mean()


def test_the_worked_example_matches_exactly_at_the_mean_of_the_two_images():
    """The reference's worked example (A 100 +- 10, B 120 +- 15 in their overlap and as a whole; C alone): the
    per-image anchors stop at 109.86 / 110.14; the set meets at 110 +- 12.5, and C, a group of
    its own, is left as it is."""
    whole_mean, whole_std = np.array([[100.0], [120.0], [57.0]]), np.array([[10.0], [15.0], [4.0]])
    pair = OverlapStats(0, 1, np.array([100.0]), np.array([10.0]), np.array([120.0]),
                        np.array([15.0]), np.array([1000.0]))
    solution = solve_model(np.ones(3, bool), whole_mean, whole_std, [pair])
    np.testing.assert_allclose(solution.scales[:, 0], [1.25, 5 / 6, 1.0], rtol=1e-12)
    np.testing.assert_allclose(solution.offsets[:, 0], [-15.0, 10.0, 0.0], atol=1e-9)
    assert solution.unconstrained == []


def test_one_included_image_is_unchanged_and_every_other_image_matches_it():
    gains, offsets = distortion(9, 2, seed=3)
    whole_mean, whole_std, pairs = exact_model(grid_links(3, 3), gains, offsets)
    for model_image in (0, 4, 8):
        included = np.zeros(9, bool)
        included[model_image] = True
        solution = solve_model(included, whole_mean, whole_std, pairs)
        np.testing.assert_allclose(solution.scales[model_image], 1.0, rtol=0, atol=1e-9)
        np.testing.assert_allclose(solution.offsets[model_image], 0.0, rtol=0, atol=1e-9)
        # every image now shows the scene through the model image's gain and offset
        np.testing.assert_allclose(solution.scales * gains, gains[[model_image] * 9], rtol=1e-9)
        np.testing.assert_allclose(solution.scales * offsets + solution.offsets,
                                   offsets[[model_image] * 9], rtol=1e-9, atol=1e-6)


def test_several_included_images_define_the_level_together_and_excluded_ones_follow():
    gains, offsets = distortion(6, 1, seed=4)
    links = [(k, k + 1) for k in range(5)]
    whole_mean, whole_std, pairs = exact_model(links, gains, offsets)
    included = np.array([True, False, False, False, False, True])
    solution = solve_model(included, whole_mean, whole_std, pairs)
    assert_seamless(solution, gains, offsets, np.arange(6))
    corrected_mean = solution.scales * whole_mean + solution.offsets
    assert corrected_mean[included].mean() == pytest.approx(whole_mean[included].mean(), rel=1e-12)
    assert (solution.scales * whole_std)[included].mean() == pytest.approx(
        whole_std[included].mean(), rel=1e-12)


def test_a_long_strip_does_not_drift():
    count = 200
    gains, offsets = distortion(count, 2, seed=5)
    links = [(k, k + 1) for k in range(count - 1)]
    whole_mean, whole_std, pairs = exact_model(links, gains, offsets)
    solution = solve_model(np.ones(count, bool), whole_mean, whole_std, pairs)
    assert solution.converged
    assert_seamless(solution, gains, offsets, np.arange(count), rtol=1e-8)


def test_separate_groups_each_keep_their_own_level():
    gains, offsets = distortion(7, 2, seed=6)
    links = [(0, 1), (1, 2), (3, 4), (4, 5), (3, 5)]          # image 6 is alone
    whole_mean, whole_std, pairs = exact_model(links, gains, offsets)
    solution = solve_model(np.ones(7, bool), whole_mean, whole_std, pairs)
    corrected_mean = solution.scales * whole_mean + solution.offsets
    for members in ([0, 1, 2], [3, 4, 5]):
        assert_seamless(solution, gains, offsets, np.array(members))
        np.testing.assert_allclose(corrected_mean[members].mean(axis=0),
                                   whole_mean[members].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(solution.scales[6], 1.0, atol=1e-15)
    np.testing.assert_allclose(solution.offsets[6], 0.0, atol=1e-12)


def test_a_group_without_a_model_image_is_balanced_at_its_own_level():
    gains, offsets = distortion(5, 1, seed=7)
    whole_mean, whole_std, pairs = exact_model([(0, 1), (2, 3), (3, 4)], gains, offsets)
    included = np.array([True, False, False, False, False])
    solution = solve_model(included, whole_mean, whole_std, pairs)
    np.testing.assert_allclose([solution.scales[0, 0], solution.offsets[0, 0]], [1.0, 0.0],
                               atol=1e-9)
    assert_seamless(solution, gains, offsets, np.array([0, 1]))
    assert_seamless(solution, gains, offsets, np.array([2, 3, 4]))
    corrected_mean = solution.scales * whole_mean + solution.offsets
    assert corrected_mean[2:].mean() == pytest.approx(whole_mean[2:].mean(), rel=1e-12)


def test_overlap_sizes_many_orders_of_magnitude_apart_stay_exact():
    gains, offsets = distortion(4, 1, seed=8)
    whole_mean, whole_std, pairs = exact_model([(0, 1), (1, 2), (2, 3)], gains, offsets,
                                               sizes=[1e8, 3, 2e6])
    solution = solve_model(np.ones(4, bool), whole_mean, whole_std, pairs)
    assert solution.converged
    assert_seamless(solution, gains, offsets, np.arange(4))


def test_a_band_whose_pair_has_no_valid_pixel_is_split_into_its_own_groups():
    gains, offsets = distortion(3, 2, seed=9)
    whole_mean, whole_std, pairs = exact_model([(0, 1), (1, 2)], gains, offsets)
    pairs[1].size[1] = 0.0          # band 2: image 2 has no valid partner
    solution = solve_model(np.ones(3, bool), whole_mean, whole_std, pairs)
    common = solution.scales[:, 0] * gains[:, 0]
    np.testing.assert_allclose(common, common[0], rtol=1e-9)
    np.testing.assert_allclose([solution.scales[2, 1], solution.offsets[2, 1]], [1.0, 0.0],
                               atol=1e-12)
    band_two = solution.scales[:2, 1] * gains[:2, 1]
    np.testing.assert_allclose(band_two, band_two[0], rtol=1e-9)


def test_a_constant_image_gives_a_finite_converged_solution():
    whole_mean = np.array([[100.0], [50.0], [130.0]])
    whole_std = np.array([[10.0], [0.0], [20.0]])
    pairs = [OverlapStats(0, 1, np.array([100.0]), np.array([10.0]), np.array([50.0]),
                          np.array([0.0]), np.array([100.0])),
             OverlapStats(1, 2, np.array([50.0]), np.array([0.0]), np.array([130.0]),
                          np.array([20.0]), np.array([100.0]))]
    solution = solve_model(np.ones(3, bool), whole_mean, whole_std, pairs)
    assert solution.converged and np.all(np.isfinite(solution.scales))
    before, after = overlap_seams(pairs, solution.scales, solution.offsets)
    np.testing.assert_allclose(after, 0.0, atol=1e-9)
    # nothing relates the contrasts on either side of the constant image: each keeps its own
    np.testing.assert_allclose(solution.scales[:, 0], 1.0, rtol=1e-12)


def test_a_zero_custom_factor_leaves_that_statistic_of_every_image_as_it_is():
    gains, offsets = distortion(9, 1, seed=11)
    whole_mean, whole_std, pairs = exact_model(grid_links(3, 3), gains, offsets)
    only_means = solve_model(np.ones(9, bool), whole_mean, whole_std, pairs, 1.0, 0.0)
    np.testing.assert_allclose(only_means.scales, 1.0, rtol=1e-12)
    only_stds = solve_model(np.ones(9, bool), whole_mean, whole_std, pairs, 0.0, 1.0)
    np.testing.assert_allclose(only_stds.scales * whole_mean + only_stds.offsets, whole_mean,
                               rtol=1e-12)
    np.testing.assert_allclose(only_stds.scales * gains, (only_stds.scales * gains)[[0] * 9],
                               rtol=1e-9)


def dense_constrained_solution(included, whole_mean, whole_std, pairs, mean_factor, std_factor):
    """The set anchoring written out densely for one band: minimise the overlap rows weighted
    by their precision subject to the group constraints, through the constraints' null space."""
    count = len(whole_mean)
    rows = []
    for pair in pairs:
        weight = overlap_precision(pair.size[0])
        row = np.zeros(2 * count)
        row[[2 * pair.first, 2 * pair.first + 1, 2 * pair.second, 2 * pair.second + 1]] = (
            mean_factor * weight * np.array([pair.mean_first[0], 1.0, -pair.mean_second[0], -1.0]))
        rows.append(row)
        row = np.zeros(2 * count)
        row[[2 * pair.first, 2 * pair.second]] = (
            std_factor * weight * np.array([pair.std_first[0], -pair.std_second[0]]))
        rows.append(row)
    matrix = np.array(rows)
    groups = connected_groups(count, [(p.first, p.second) for p in pairs])
    constraints, targets = [], []
    for label in np.unique(groups):
        members = np.flatnonzero(groups == label)
        model = members[included[members]] if included[members].any() else members
        mean_row, std_row = np.zeros(2 * count), np.zeros(2 * count)
        mean_row[2 * model], mean_row[2 * model + 1] = whole_mean[model], 1.0
        std_row[2 * model] = whole_std[model]
        constraints += [mean_row, std_row]
        targets += [whole_mean[model].sum(), whole_std[model].sum()]
    constraints, targets = np.array(constraints), np.array(targets)
    particular = np.linalg.lstsq(constraints, targets, rcond=None)[0]
    basis = scipy.linalg.null_space(constraints)
    free = np.linalg.lstsq(matrix @ basis, -matrix @ particular, rcond=None)[0]
    solution = particular + basis @ free
    return solution[0::2], solution[1::2]


def test_inconsistent_statistics_give_the_constrained_least_squares_solution():
    """Noisy statistics (no exact answer): the solution is the constrained least-squares one of
    a dense implementation, for any weights, factors and model images."""
    rng = np.random.default_rng(10)
    links = grid_links(2, 3) + [(6, 7)]
    count = 8
    for trial in range(4):
        whole_mean = rng.uniform(50, 150, count)
        whole_std = rng.uniform(5, 20, count)
        pairs = [OverlapStats(i, j, rng.uniform(50, 150, 1), rng.uniform(5, 20, 1),
                              rng.uniform(50, 150, 1), rng.uniform(5, 20, 1),
                              rng.integers(10, 100000, 1).astype(float)) for i, j in links]
        included = rng.random(count) < 0.6
        factors = ((1.0, 1.0), (3.0, 0.5), (0.5, 2.0), (1.0, 1.0))[trial]
        solution = solve_model(included, whole_mean[:, None], whole_std[:, None], pairs, *factors)
        scales, offsets = dense_constrained_solution(included, whole_mean, whole_std, pairs,
                                                     *factors)
        np.testing.assert_allclose(solution.scales[:, 0], scales, rtol=1e-9)
        np.testing.assert_allclose(solution.offsets[:, 0], offsets, rtol=1e-9, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# The reference's per-image anchoring (anchoring="per_image")
# ---------------------------------------------------------------------------------------------
EXAMPLE_WHOLE_MEAN = np.array([[100.0], [120.0], [57.0]])   # C's statistics are arbitrary
EXAMPLE_WHOLE_STD = np.array([[10.0], [15.0], [4.0]])
EXAMPLE_OVERLAP = OverlapStats(0, 1, np.array([100.0]), np.array([10.0]), np.array([120.0]),
                               np.array([15.0]), np.array([1000.0]))


def test_worked_example_through_solve_model():
    solution = solve_model(np.ones(3, dtype=bool), EXAMPLE_WHOLE_MEAN, EXAMPLE_WHOLE_STD,
                           [EXAMPLE_OVERLAP], anchoring="per_image")
    assert_worked_example(solution.scales[:, 0], solution.offsets[:, 0])
    assert solution.converged

    only_a = solve_model(np.array([True, False, False]), EXAMPLE_WHOLE_MEAN, EXAMPLE_WHOLE_STD,
                         [EXAMPLE_OVERLAP], anchoring="per_image")
    np.testing.assert_allclose(only_a.scales[:, 0], [1.0, 0.6667, 1.0], rtol=1e-4)
    np.testing.assert_allclose(only_a.offsets[:, 0], [0.0, 20.0, 0.0], atol=1e-4)
    # B now matches A exactly; C had no row at all
    assert only_a.scales[1, 0] * 120 + only_a.offsets[1, 0] == pytest.approx(100.0, abs=1e-6)
    assert only_a.scales[1, 0] * 15 == pytest.approx(10.0, abs=1e-6)
    assert only_a.unconstrained == [2]


def test_solve_model_matches_an_independent_dense_implementation_of_the_reference():
    rng = np.random.default_rng(7)
    count = 6
    whole_mean = rng.uniform(50, 150, (count, 1))
    whole_std = rng.uniform(5, 20, (count, 1))
    links = [(0, 1), (0, 2), (1, 2), (2, 3), (3, 4)]            # image 5 is alone
    overlaps = [OverlapStats(i, j, rng.uniform(50, 150, 1), rng.uniform(5, 20, 1),
                             rng.uniform(50, 150, 1), rng.uniform(5, 20, 1),
                             rng.integers(10, 5000, 1).astype(float)) for i, j in links]
    flat = [(o.first, o.second, o.mean_first[0], o.std_first[0], o.mean_second[0],
             o.std_second[0], o.size[0]) for o in overlaps]
    for included in (np.ones(count, bool), np.array([True, False, True, False, False, True])):
        for factors in ((1.0, 1.0), (3.0, 0.5), (0.25, 4.0)):
            solution = solve_model(included, whole_mean, whole_std, overlaps, *factors,
                                   anchoring="per_image")
            scales, offsets = reference_model(included, whole_mean[:, 0], whole_std[:, 0], flat, *factors)
            np.testing.assert_allclose(solution.scales[:, 0], scales, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(solution.offsets[:, 0], offsets, rtol=1e-9, atol=1e-7)


def test_mean_factor_weights_the_mean_rows_quadratically():
    """A larger custom_mean_factor shrinks the corrected overlap mean difference, a larger
    custom_std_factor the std difference (the worked example's numbers)."""
    def gaps(mean_factor, std_factor):
        s = solve_model(np.ones(3, bool), EXAMPLE_WHOLE_MEAN, EXAMPLE_WHOLE_STD,
                        [EXAMPLE_OVERLAP], mean_factor, std_factor, anchoring="per_image")
        a, b = s.scales[:, 0], s.offsets[:, 0]
        return abs(a[0] * 100 + b[0] - a[1] * 120 - b[1]), abs(a[0] * 10 - a[1] * 15)

    mean_gap, std_gap = gaps(1.0, 1.0)
    assert gaps(5.0, 1.0)[0] < mean_gap / 10
    assert gaps(1.0, 5.0)[1] < std_gap / 10
    assert gaps(0.2, 1.0)[0] > mean_gap * 5
