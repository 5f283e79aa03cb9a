"""core/blocks.py: the block grid (the reference's block-count rule, the coefficient-of-variation
rule, block positions) and the normalised bilinear interpolation from block centres."""
import numpy as np
import pytest
from affine import Affine

from core.blocks import (BlockGrid, BlockMap, grid_shape_for_count, grid_shape_from_variation,
                         normalised_bilinear)


@pytest.mark.parametrize("blocks, images, width, height, expected", [
    (100, 1, 1000.0, 1000.0, (10, 10)),     # one square image
    (100, 2, 1000.0, 1000.0, (14, 14)),     # two images, square canvas: 196 blocks
    (100, 3, 3000.0, 1000.0, (10, 30)),     # three images on a 3:1 canvas: 10 rows x 30 cols
    (10, 1, 100.0, 99.0, (3, 3)),           # 9 < 10 blocks
])
def test_grid_shape_for_count_verified_examples(blocks, images, width, height, expected):
    assert grid_shape_for_count(blocks, images, width, height) == expected


def test_grid_shape_for_count_rounds_half_to_even():
    # sqrt(25 * 1/4) = 2.5: Python's round gives 2 columns (half up would give 3 -> 8 x 3).
    assert grid_shape_for_count(25, 1, 1.0, 4.0) == (12, 2)
    rows, cols = grid_shape_for_count(7, 5, 1234.0, 567.0)
    assert rows * cols <= 35


def test_grid_shape_from_variation_rule():
    warnings = []
    assert grid_shape_from_variation(1000, 100.0, 36.0, warnings) == (10, 10)    # CV = ref CV
    assert grid_shape_from_variation(1000, 100.0, 50.0, warnings) == (14, 14)    # 13.89 -> 14
    assert grid_shape_from_variation(1000, 100.0, 1.0, warnings) == (1, 1)       # never 0
    assert grid_shape_from_variation(0, 0.0, 0.0, warnings) == (10, 10)          # no pixels
    assert grid_shape_from_variation(1000, 0.0, 5.0, warnings) == (10, 10)       # mean 0
    assert warnings == []
    assert grid_shape_from_variation(1000, -100.0, 72.0, warnings) == (20, 20)   # |mean|
    assert len(warnings) == 1 and "negative" in warnings[0]


def test_normalised_bilinear_renormalises_the_valid_corners():
    """Halfway between four block centres, one without a value: the three valid corners,
    their weights renormalised, give (10 + 20 + 40) / 3."""
    block_map = BlockMap(0, 0, np.array([[10.0, 20.0], [np.nan, 40.0]])[:, :, None])
    value = normalised_bilinear(block_map, np.array([0.5]), np.array([0.5]))
    assert value.shape == (1, 1, 1)
    assert value[0, 0, 0] == pytest.approx(70.0 / 3.0, abs=1e-12)
    assert value[0, 0, 0] == pytest.approx(23.333, abs=5e-4)


def test_normalised_bilinear_offsets_centres_and_gaps():
    # The same 2 x 2 map as a sub-grid at block (3, 5) of a larger grid, two bands.
    values = np.stack([np.array([[10.0, 20.0], [np.nan, 40.0]]),
                       np.array([[1.0, np.nan], [np.nan, np.nan]])], axis=2)
    block_map = BlockMap(3, 5, values)
    rows = np.array([3.0, 3.5, 4.0, 0.0])
    cols = np.array([5.0, 5.5, 6.0, 0.0])
    result = normalised_bilinear(block_map, rows, cols)
    assert result.shape == (2, 4, 4)
    assert result[0, 0, 0] == 10.0                           # at a block centre: its value
    assert result[0, 1, 1] == pytest.approx(70.0 / 3.0)      # the example above, shifted
    assert result[0, 2, 2] == 40.0
    assert result[0, 0, 1] == pytest.approx(15.0)            # plain bilinear between valid
    assert np.isnan(result[0, 2, 0])                          # the NaN block at its centre
    assert np.isnan(result[0, 3, 3])                          # outside the sub-grid
    assert result[1, 1, 1] == 1.0                             # one valid corner: its value
    assert np.isnan(result[1, 2, 2])


def test_block_grid_positions_and_membership():
    grid = BlockGrid(0.0, 0.0, 100.0, 50.0, 5, 10)     # 10 x 10 blocks
    assert grid.transform == Affine(10.0, 0.0, 0.0, 0.0, -10.0, 50.0)
    # Block centres at integer positions; the outer half block is clamped.
    np.testing.assert_allclose(grid.column_positions(np.array([5.0, 10.0, 1.0, 99.0, -30.0])),
                               [0.0, 0.5, 0.0, 9.0, 0.0])
    np.testing.assert_allclose(grid.row_positions(np.array([45.0, 40.0, 2.0])), [0.0, 0.5, 4.0])
    # Pixels outside the canvas belong to no block (they are dropped, not clamped).
    assert grid.block_columns(np.array([-0.5, 0.0, 99.9, 100.0])).tolist() == [-1, 0, 9, -1]
    assert grid.block_rows(np.array([50.5, 50.0, 0.1, 0.0])).tolist() == [-1, 0, 4, -1]
