"""Hostile option values, through processing.run and qgis_process (issue 5, "Options").

Out-of-range numbers are refused before anything runs, with a message naming the parameter
and its valid range; values that are merely unusual give a defined result.
"""
import os

import numpy as np
import pytest

from core_helpers import InputGuard
from hostile_helpers import ALGORITHMS, GR, LBA, SUFFIX, check, expected_outputs, read


@pytest.fixture
def guard():
    return InputGuard()


def refused(runner, alg_id, tiles, tmp_path, guard, options, *needles):
    out = tmp_path / "out"
    guard.watch(tmp_path / "input")
    outcome = runner.run(alg_id, dict({"INPUT": tiles, "OUTPUT_FOLDER": str(out)}, **options))
    return check(outcome, guard=guard, outputs=[out], expect_ok=False, needles=needles)


def succeeded(runner, alg_id, tiles, out, guard, options, warning_needles=()):
    guard.watch(os.path.dirname(tiles[0]))
    outcome = runner.run(alg_id, dict({"INPUT": tiles, "OUTPUT_FOLDER": str(out)}, **options))
    complete = expected_outputs(out, tiles, SUFFIX[alg_id])
    check(outcome, guard=guard, outputs=[out], complete=complete, like=tiles, expect_ok=True,
          warning_needles=warning_needles)
    return outcome, complete


# ---------------------------------------------------------------------------------------------
# Window size
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_window_size_zero_and_larger_than_the_image(runner, alg_id, tiles, tmp_path, guard):
    """0 means automatic; a window larger than the image is one tile: same result."""
    _, automatic = succeeded(runner, alg_id, tiles, tmp_path / "auto", guard, {"WINDOW_SIZE": 0})
    _, huge = succeeded(runner, alg_id, tiles, tmp_path / "huge", guard, {"WINDOW_SIZE": 5000})
    for first, second in zip(automatic, huge):
        assert np.array_equal(read(first), read(second))


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_negative_window_size(runner, alg_id, tiles, tmp_path, guard):
    refused(runner, alg_id, tiles, tmp_path, guard, {"WINDOW_SIZE": -64},
            "WINDOW_SIZE", "at least 0", "-64")


# ---------------------------------------------------------------------------------------------
# Block grid, alpha, threshold (Local block adjustment)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options, needles", [
    ({"NUMBER_OF_BLOCKS": 0}, ("NUMBER_OF_BLOCKS", "at least 1")),
    ({"NUMBER_OF_BLOCKS": -4}, ("NUMBER_OF_BLOCKS", "at least 1", "-4")),
    ({"NUMBER_OF_BLOCKS": True}, ("NUMBER_OF_BLOCKS", "must be a number", "true")),
    ({"NUMBER_OF_BLOCKS": 2.5}, ("NUMBER_OF_BLOCKS", "whole number")),
    ({"BLOCK_RULE": 1, "BLOCK_ROWS": 0}, ("BLOCK_ROWS", "at least 1")),
    ({"ALPHA": 1.5}, ("ALPHA", "between 0 and 1", "1.5")),
    ({"ALPHA": -0.25}, ("ALPHA", "between 0 and 1", "-0.25")),
    ({"BLOCK_VALID_PIXEL_THRESHOLD": 1.01}, ("BLOCK_VALID_PIXEL_THRESHOLD", "between 0 and 1")),
    ({"BLOCK_VALID_PIXEL_THRESHOLD": -0.5}, ("BLOCK_VALID_PIXEL_THRESHOLD", "between 0 and 1")),
    ({"CORRECTION_METHOD": 7}, ("CORRECTION_METHOD", "0=Gamma, 1=Linear")),
], ids=["blocks-0", "blocks-negative", "blocks-boolean", "blocks-fraction", "rows-0",
        "alpha-above-1", "alpha-negative", "threshold-above-1", "threshold-negative",
        "unknown-method"])
def test_bad_block_options(runner, tiles, tmp_path, guard, options, needles):
    refused(runner, LBA, tiles, tmp_path, guard, options, *needles)


@pytest.mark.parametrize("options, needles", [
    ({"IMAGE_PARALLEL_WORKERS": -3}, ("IMAGE_PARALLEL_WORKERS", "at least -1")),
    ({"CUSTOM_MEAN_FACTOR": -1}, ("CUSTOM_MEAN_FACTOR", "at least 0")),
    ({"OUTPUT_DTYPE": 12}, ("OUTPUT_DTYPE", "must be the number of one of its options")),
    ({"CUSTOM_NODATA_VALUE": "lots"}, ("CUSTOM_NODATA_VALUE", "must be a number", "lots")),
], ids=["workers", "mean-factor", "dtype-index", "nodata-text"])
def test_bad_common_options(runner, tiles, tmp_path, guard, options, needles):
    refused(runner, GR, tiles, tmp_path, guard, options, *needles)


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_nodata_that_the_output_type_cannot_hold(runner, alg_id, tiles, tmp_path, guard):
    refused(runner, alg_id, tiles, tmp_path, guard,
            {"CUSTOM_NODATA_VALUE": -1, "OUTPUT_DTYPE": 2}, "nodata value -1", "uint16")


# ---------------------------------------------------------------------------------------------
# Output type too narrow: clipped and counted, never wrapped
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_output_dtype_too_narrow(runner, alg_id, tmp_path, guard, rm):
    # values from about 40 to 400: uint8 holds the low ones, clips the high ones
    paths = rm.write_tiles(tmp_path / "input", gains=((0.2, 0.0), (0.3, 20.0), (0.25, 10.0)))
    exact, wide = succeeded(runner, alg_id, paths, tmp_path / "float", guard,
                            {"OUTPUT_DTYPE": 7})
    narrow_outcome, narrow = succeeded(runner, alg_id, paths, tmp_path / "uint8", guard,
                                       {"OUTPUT_DTYPE": 1}, warning_needles=["clipped"])
    clipped_total = 0
    for source, float_path, byte_path in zip(paths, wide, narrow):
        valid = read(source)[0] != 0
        values = read(float_path)[0].astype("float64")
        got = read(byte_path)[0]
        assert got.dtype == np.uint8
        rounded = np.trunc(values + np.copysign(0.5, values))
        expected = np.clip(rounded, 0, 255)
        expected[valid & (expected == 0)] = 1      # a valid pixel never becomes nodata
        expected[~valid] = 0
        assert np.array_equal(got, expected.astype(np.uint8)), byte_path
        clipped_total += int(np.count_nonzero(valid & (rounded > 255)))
    assert clipped_total > 1000
    counted = sum(int(word) for warning in narrow_outcome.warnings if "clipped" in warning
                  for word in warning.split()[:1] if word.isdigit())
    assert counted == clipped_total


# ---------------------------------------------------------------------------------------------
# Model images (Global regression)
# ---------------------------------------------------------------------------------------------
def test_unknown_model_image_name(runner, tiles, tmp_path, guard, rm):
    """A model image that is not an input is ignored with a warning naming it."""
    stranger = rm.write_tiles(tmp_path / "elsewhere", names=["stranger"],
                              offsets=rm.TILE_OFFSETS[:1], gains=rm.GAINS[:1])[0]
    guard.watch(tmp_path / "elsewhere")
    outcome, written = succeeded(runner, GR, tiles, tmp_path / "out", guard,
                                 {"MODEL_IMAGES": [tiles[0], stranger]},
                                 warning_needles=["stranger"])
    # the known model image keeps its radiometry
    assert np.abs(read(written[0]).astype(float) - read(tiles[0])).max() <= 1


def test_only_unknown_model_images(runner, tiles, tmp_path, guard, rm):
    stranger = rm.write_tiles(tmp_path / "elsewhere", names=["stranger"],
                              offsets=rm.TILE_OFFSETS[:1], gains=rm.GAINS[:1])[0]
    guard.watch(tmp_path / "elsewhere")
    refused(runner, GR, tiles, tmp_path, guard, {"MODEL_IMAGES": [stranger]}, "stranger")
