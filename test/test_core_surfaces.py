"""Unit tests of core/surfaces.py: the local correction surfaces (polynomial fields in each
image's own coordinates), the block sums of an overlap and the joint fit of the fields to
block comparisons. Comparisons are generated from known fields, so the exact answer is known.
"""
import numpy as np
import pytest

from core.surfaces import (BlockRelations, Comparisons, PairBlocks, Surface, exponents,
                           fit_band, group_medians, image_coordinates, positive_share,
                           surface_kind)

# Three images of 100 x 100 map units in a row, each overlapping the next by 40.
BOUNDS = np.array([[0.0, 0.0, 100.0, 100.0], [60.0, 0.0, 160.0, 100.0],
                   [120.0, 0.0, 220.0, 100.0]])


def field_value(coefficients, bounds, x, y, order=2):
    """The polynomial written out, monomial by monomial."""
    u, v = image_coordinates(bounds, np.asarray(x, float), np.asarray(y, float))
    return sum(c * u ** p * v ** q for c, (p, q) in zip(coefficients, exponents(order)))


def test_exponents_of_an_order_two_polynomial():
    assert exponents(2) == [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert len(exponents(1)) == 3


def test_image_coordinates_run_from_minus_one_to_one():
    u, v = image_coordinates((10.0, 20.0, 30.0, 60.0), np.array([10.0, 20.0, 30.0]),
                             np.array([20.0, 40.0, 60.0]))
    np.testing.assert_allclose(u, [-1, 0, 1])
    np.testing.assert_allclose(v, [-1, 0, 1])


def test_the_separable_field_is_the_polynomial():
    rng = np.random.default_rng(1)
    surface = Surface("multiplicative", 2, tuple(BOUNDS[1]), rng.normal(0, 0.1, (2, 6)))
    xs, ys = np.linspace(61, 159, 7), np.linspace(99, 1, 5)
    for band in range(2):
        expected = field_value(surface.coefficients[band], BOUNDS[1], xs[None, :], ys[:, None])
        np.testing.assert_allclose(surface.field(band, xs, ys), expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(surface.at(xs, np.full(7, 50.0))[band],
                                   field_value(surface.coefficients[band], BOUNDS[1], xs, 50.0),
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["multiplicative", "additive"])
def test_apply_multiplies_or_adds_and_alpha_scales_the_field(kind):
    rng = np.random.default_rng(2)
    surface = Surface(kind, 2, tuple(BOUNDS[0]), rng.normal(0, 0.1, (1, 6)))
    xs, ys = np.linspace(0.5, 99.5, 10), np.linspace(99.5, 0.5, 8)
    values = rng.uniform(100, 200, (1, 8, 10))
    field = surface.field(0, xs, ys)
    expected = values * np.exp(0.5 * field) if kind == "multiplicative" else values + 0.5 * field
    np.testing.assert_allclose(surface.apply(values, xs, ys, 0.5), expected, rtol=1e-12)
    correction = surface.correction(xs, np.full(10, 30.0))[0]
    at = field_value(surface.coefficients[0], BOUNDS[0], xs, 30.0)
    np.testing.assert_allclose(correction, np.exp(at) if kind == "multiplicative" else at,
                               rtol=1e-12)


def test_an_identity_surface_leaves_values_exactly():
    surface = Surface.identity("multiplicative", 2, BOUNDS[0], 3)
    assert surface.is_identity()
    values = np.random.default_rng(3).uniform(0, 60000, (3, 4, 5)).astype(np.float32)
    assert np.array_equal(surface.apply(values, np.arange(5.0), np.arange(4.0), 1.0), values)


def test_a_sample_is_summed_per_block_where_kept():
    rng = np.random.default_rng(4)
    blocks = rng.integers(-1, 6, 300)                 # 2 x 3 blocks; -1: off the sub-grid
    first, second = rng.uniform(0, 100, (2, 2, 300))
    keep = rng.random((2, 300)) > 0.3
    xs, ys = rng.uniform(0, 50, 300), rng.uniform(0, 50, 300)
    sums = PairBlocks(0, 1, 4, 7, 2, 2, 3, step=5)
    sums.add_sample(blocks, first, second, keep, xs, ys)
    for band in range(2):
        for block in range(6):
            at = keep[band] & (blocks == block)
            np.testing.assert_allclose(
                sums.sums[:, band].reshape(5, -1)[:, block],
                [at.sum(), first[band][at].sum(), second[band][at].sum(), xs[at].sum(),
                 ys[at].sum()])


def comparisons_from(fields, kind, seed=0, per_pair=60, outliers=0):
    """Comparisons between neighbours of BOUNDS whose means differ by the known ``fields``
    (coefficients per image): the first image sees ``m / g_first`` where the truth is ``m``."""
    rng = np.random.default_rng(seed)
    parts = []
    for first, second in ((0, 1), (1, 2)):
        x = rng.uniform(max(BOUNDS[first][0], BOUNDS[second][0]),
                        min(BOUNDS[first][2], BOUNDS[second][2]), per_pair)
        y = rng.uniform(0, 100, per_pair)
        truth = rng.uniform(500, 3000, per_pair)
        field_first = field_value(fields[first], BOUNDS[first], x, y)
        field_second = field_value(fields[second], BOUNDS[second], x, y)
        if kind == "multiplicative":
            mean_first, mean_second = truth * np.exp(-field_first), truth * np.exp(-field_second)
        else:
            mean_first, mean_second = truth - field_first, truth - field_second
        parts.append((np.full(per_pair, first), np.full(per_pair, second), x, y,
                      np.full(per_pair, 500.0), mean_first, mean_second))
    columns = [np.concatenate(column) for column in zip(*parts)]
    if outliers:
        columns[5][:outliers] *= 1.5                    # a cloud in the first image's blocks
    return Comparisons(columns[0].astype(np.int64), columns[1].astype(np.int64), *columns[2:])


def corrected_disagreement(fit, comparisons, kind):
    """|difference of the two corrected means| over the first corrected mean."""
    after = []
    for images, means in ((comparisons.first, comparisons.mean_first),
                          (comparisons.second, comparisons.mean_second)):
        field = np.array([field_value(fit.coefficients[k], BOUNDS[k], x, y)
                          for k, x, y in zip(images, comparisons.x, comparisons.y)])
        after.append(means * np.exp(field) if kind == "multiplicative" else means + field)
    return np.abs(after[0] - after[1]) / np.abs(after[0])


@pytest.mark.parametrize("kind", ["multiplicative", "additive"])
def test_fields_that_differ_between_images_are_undone(kind):
    """Known smooth fields: after the fit the corrected means agree everywhere (to what the
    small ridge leaves), whatever gauge the fit picked."""
    rng = np.random.default_rng(6)
    scale = 0.08 if kind == "multiplicative" else 80.0
    fields = rng.normal(0, scale, (3, 6))
    comparisons = comparisons_from(fields, kind)
    before = corrected_disagreement(type("Zero", (), {"coefficients": np.zeros((3, 6))}),
                                    comparisons, kind)
    fit = fit_band(BOUNDS, comparisons, kind, 2, robust=True)
    assert fit.converged and fit.kept.all()
    after = corrected_disagreement(fit, comparisons, kind)
    assert after.max() < 0.02 * before.max()
    # the level: the fields at the images' centres sum to 0
    assert abs(fit.coefficients[:, 0].sum()) < 1e-9


def test_seamless_comparisons_give_zero_fields():
    comparisons = comparisons_from(np.zeros((3, 6)), "multiplicative")
    fit = fit_band(BOUNDS, comparisons, "multiplicative", 2, robust=True)
    assert np.abs(fit.coefficients).max() < 1e-12 and fit.kept.all()


def fields_at(fit, comparisons):
    """Each image's fitted field at the centroids of the comparisons it takes part in."""
    return np.concatenate([
        [field_value(fit.coefficients[k], BOUNDS[k], x, y)
         for k, x, y in zip(images, comparisons.x, comparisons.y)]
        for images in (comparisons.first, comparisons.second)])


def test_comparisons_that_disagree_with_the_others_are_left_out():
    fields = np.random.default_rng(7).normal(0, 0.05, (3, 6))
    clean_comparisons = comparisons_from(fields, "multiplicative")
    clean = fit_band(BOUNDS, clean_comparisons, "multiplicative", 2, robust=True)
    assert clean.kept.mean() > 0.9
    cloudy_comparisons = comparisons_from(fields, "multiplicative", outliers=12)
    cloudy = fit_band(BOUNDS, cloudy_comparisons, "multiplicative", 2, robust=True)
    assert not cloudy.kept[:12].any() and cloudy.kept[12:].mean() > 0.9
    # on the cloud-free comparisons the robust fit leaves the images as close as the clean one
    clean_left = corrected_disagreement(clean, clean_comparisons, "multiplicative")
    robust_left = corrected_disagreement(cloudy, clean_comparisons, "multiplicative")
    assert robust_left.mean() < 2 * clean_left.mean()
    biased = fit_band(BOUNDS, cloudy_comparisons, "multiplicative", 2, robust=False)
    biased_left = corrected_disagreement(biased, clean_comparisons, "multiplicative")
    assert biased_left.max() > 10 * robust_left.max()


def test_fixed_images_keep_their_surfaces_and_the_others_are_fitted_against_them():
    fields = np.random.default_rng(8).normal(0, 0.05, (3, 6))
    comparisons = comparisons_from(fields, "multiplicative")
    free = fit_band(BOUNDS, comparisons, "multiplicative", 2, robust=True)
    fixed = fit_band(BOUNDS, comparisons, "multiplicative", 2, robust=True,
                     fixed={0: free.coefficients[0]})
    np.testing.assert_array_equal(fixed.coefficients[0], free.coefficients[0])
    assert np.abs(fields_at(fixed, comparisons) - fields_at(free, comparisons)).max() < 2e-3
    # fitted against a fixed image whose field is off by 10 %, the others follow it
    shifted = free.coefficients[0].copy()
    shifted[0] += np.log(1.1)
    followed = fit_band(BOUNDS, comparisons, "multiplicative", 2, robust=True,
                        fixed={0: shifted})
    np.testing.assert_allclose(followed.coefficients[1:, 0] - free.coefficients[1:, 0],
                               np.log(1.1), atol=3e-3)


def test_the_kind_follows_the_sign_of_the_block_means():
    positive = comparisons_from(np.zeros((3, 6)), "multiplicative")
    assert positive_share([positive]) == (120, 120)
    assert surface_kind(*positive_share([positive])) == "multiplicative"
    some_dark = comparisons_from(np.zeros((3, 6)), "multiplicative")
    some_dark.mean_first[:5] = -1.0                     # 5 of 120: still multiplicative
    assert surface_kind(*positive_share([some_dark])) == "multiplicative"
    centred = comparisons_from(np.zeros((3, 6)), "additive")
    centred.mean_first[:60] *= -1.0
    assert surface_kind(*positive_share([centred])) == "additive"


def test_group_medians():
    groups = np.array([2, 0, 2, 2, 0, 4])
    values = np.array([5.0, 1.0, 3.0, 9.0, 2.0, 7.0])
    medians, sizes = group_medians(groups, values, 5)
    np.testing.assert_array_equal(sizes, [2, 0, 3, 0, 1])
    np.testing.assert_array_equal(medians, [1.5, np.nan, 5.0, np.nan, 7.0])


@pytest.mark.parametrize("kind", ["multiplicative", "additive"])
def test_pixel_pairs_off_their_blocks_relation_are_left_out(kind):
    """A sample in two blocks and off the sub-grid: in the first block the second image is the
    first times 1.2 (or plus 40) with a little noise, and 10 % of its pixels are saturated in
    the second image; the second block has too few samples to judge, the pixels off the
    sub-grid are not judged."""
    rng = np.random.default_rng(9)
    first = rng.uniform(100, 200, (1, 110))
    second = first * 1.2 if kind == "multiplicative" else first + 40.0
    second = second + rng.normal(0, 0.5, second.shape)
    second[0, :5] = 255.0
    blocks = np.array([0] * 50 + [1] * 5 + [-1] * 55)
    both = np.ones((1, 110), bool)
    relations = BlockRelations.of_sample(blocks, first, second, both, 2, [1.0])
    assert np.isfinite(relations.centre[kind][0, 0]) and np.isnan(relations.centre[kind][0, 1])
    keep = relations.inliers(kind, blocks, first, second, both)[0]
    assert not keep[:5].any() and keep[5:50].all()
    assert keep[50:].all()              # no judgement without enough samples, nor off the grid
