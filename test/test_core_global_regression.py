"""Core engine tests for Global regression (``core.global_regression``), on generated GeoTIFFs.

The model itself (``core/global_model.py``) is tested on its own in test_core_global_model.py;
decisions in docs/DESIGN.md. No QGIS: numpy, rasterio and scipy only. Every run's inputs are checksummed
before and after (the ``guard`` fixture): the engine must never modify them, nor write anything
next to them.
"""
import json
import os
import shutil

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_geom

import core_helpers as H  # also puts the repository root on sys.path
from core_helpers import assert_worked_example, reference_model
import known_truth
from core import CancelledError, RadioMatchError, global_regression

# ------------------------------------------------------------------------------------------------
# fixtures and helpers

SCENE_SIZE = 110
TILE = 70
STEP = 40                       # four tiles on a 2 x 2 layout, every pair overlaps
GAINS = [(1.0, 1.0), (1.3, 0.8), (0.9, 1.15), (1.1, 1.05)]
OFFSETS = [(0.0, 0.0), (-400.0, 250.0), (120.0, -80.0), (300.0, 40.0)]


@pytest.fixture
def guard():
    """Checksums of every input folder registered with ``guard.watch``; verified at teardown."""
    keeper = H.InputGuard()
    yield keeper
    keeper.verify()


class Tiles:
    """Four overlapping uint16 tiles (2 bands, nodata 0, small holes) cut from one scene; tile 0
    has the scene's radiometry, tiles 1-3 are distorted with GAINS and OFFSETS."""

    def __init__(self, folder, **creation):
        self.folder = folder
        self.scene = H.scene(SCENE_SIZE, SCENE_SIZE, bands=2, seed=1)
        self.positions = [(0, 0), (0, STEP), (STEP, 0), (STEP, STEP)]
        self.names = [f"tile_{k}" for k in range(4)]
        self.paths = []
        for k, (row, col) in enumerate(self.positions):
            holes = np.zeros((TILE, TILE), dtype=bool)
            holes[45 + k:48 + k, 50 - k:54 - k] = True        # inside the four-way overlap
            self.paths.append(H.write_tile(
                os.path.join(folder, self.names[k] + ".tif"), self.scene, row, col, TILE, TILE,
                gain=GAINS[k], offset=OFFSETS[k], dtype="uint16", nodata=0, holes=holes,
                **creation))

    def scene_part(self, k):
        row, col = self.positions[k]
        return self.scene[:, row:row + TILE, col:col + TILE]


@pytest.fixture
def tiles(tmp_path, guard):
    made = Tiles(str(tmp_path / "in"), tiled=True, blockxsize=16, blockysize=16)
    guard.watch(made.folder)
    return made


def run(inputs, outputs, **options):
    if isinstance(outputs, os.PathLike):
        outputs = os.fspath(outputs)
    return global_regression(inputs, outputs, **options)


def params(result, name):
    """(scales, offsets) per band of an image, from the run's details."""
    entry = result.details["adjustments"][name]
    return np.array(entry["scale"]), np.array(entry["offset"])


def valid_of(path):
    with rasterio.open(path) as dataset:
        data = dataset.read()
        nodata = dataset.nodata
    if nodata is None:
        return data, np.isfinite(data) if data.dtype.kind == "f" else np.ones(data.shape, bool)
    if np.isnan(nodata):
        return data, ~np.isnan(data)
    return data, data != nodata


def overlaps_from_document(document, names, band):
    """The (i, j, m_ij, s_ij, m_ji, s_ji, size) list of a saved adjustments document."""
    found = []
    for i, name in enumerate(names):
        for other, table in document[name]["overlap_stats"].items():
            j = names.index(other)
            if i < j:
                mine, theirs = table[f"band_{band}"], document[other]["overlap_stats"][name][f"band_{band}"]
                found.append((i, j, mine["mean"], mine["std"], theirs["mean"], theirs["std"],
                              mine["size"]))
    return found


# ------------------------------------------------------------------------------------------------
# known gains and offsets


def test_known_gains_and_offsets_are_recovered_against_the_reference_tile(tiles, tmp_path):
    result = run(tiles.paths, tmp_path / "out", specify_model_images=("include", ["tile_0"]))

    scales, offsets = params(result, "tile_0")
    np.testing.assert_allclose(scales, 1.0, atol=1e-9)
    np.testing.assert_allclose(offsets, 0.0, atol=1e-6)
    for k in (1, 2, 3):
        scales, offsets = params(result, tiles.names[k])
        gain, offset = np.array(GAINS[k]), np.array(OFFSETS[k])
        np.testing.assert_allclose(scales, 1.0 / gain, rtol=1e-3)
        np.testing.assert_allclose(offsets, -offset / gain, atol=2.0)

    for k, path in enumerate(result.output_images):
        data, valid = valid_of(path)
        source, source_valid = valid_of(tiles.paths[k])
        np.testing.assert_array_equal(valid, source_valid)
        # back to the reference radiometry (the scene) within rounding, overlaps included
        difference = np.abs(data.astype(float) - tiles.scene_part(k))[valid]
        assert difference.max() <= 1.0, (k, difference.max())
    reference, _ = valid_of(result.output_images[0])
    np.testing.assert_array_equal(reference, H.read(tiles.paths[0]))


def test_default_model_reduces_every_overlap_disagreement(tiles, tmp_path):
    """With every tile in the model the result is a compromise (docs/DESIGN.md, "Anchoring"): the corrected overlap
    means move most of the way towards each other, in every pair and band."""
    result = run(tiles.paths, tmp_path / "out")
    outputs = [valid_of(path) for path in result.output_images]
    inputs = [valid_of(path) for path in tiles.paths]
    for first in range(4):
        for second in range(first + 1, 4):
            (fr, fc), (sr, sc) = tiles.positions[first], tiles.positions[second]
            # the four-way overlap (scene rows and cols STEP..TILE) in each tile's own pixels
            part_first = (slice(None), slice(STEP - fr, TILE - fr), slice(STEP - fc, TILE - fc))
            part_second = (slice(None), slice(STEP - sr, TILE - sr), slice(STEP - sc, TILE - sc))
            for band in range(2):
                both = (outputs[first][1][part_first][band]
                        & outputs[second][1][part_second][band])

                def gap(images):
                    one = images[first][0][part_first][band][both].astype(float)
                    two = images[second][0][part_second][band][both].astype(float)
                    return abs(one.mean() - two.mean())

                assert gap(inputs) > 100.0              # the tiles really disagree before
                assert gap(outputs) < 0.25 * gap(inputs), (first, second, band)


# ------------------------------------------------------------------------------------------------
# set anchoring on real imagery with known truth (test/known_truth.py: Landsat 7 tiles, each
# with its own gain and offset per band, so an exact answer exists)


def gained_tiles(outputs, case):
    """Per tile and band, the gain of its output against the truth (least squares)."""
    gains = np.zeros((len(outputs), case.bands))
    for k, path in enumerate(outputs):
        values, valid = known_truth.read_tile(path)
        for band in range(case.bands):
            keep = valid[band] & case.scored[k]
            gains[k, band] = np.polyfit(case.truth[k][band][keep], values[band][keep], 1)[0]
    return gains


def assert_matches_truth(case, outputs, tolerance=0.005, seam=0.1):
    """Outputs equal the truth up to one common gain and offset per band, within ``tolerance``
    of the distortion's RMSE, and every overlap's mean difference is below ``seam`` DN."""
    np.testing.assert_array_less(known_truth.truth_rmse(case, outputs),
                                 tolerance * known_truth.distortion_rmse(case))
    for pair, difference in known_truth.overlap_mean_differences(outputs, case.scored).items():
        assert np.abs(difference).max() < seam, (pair, difference)


@pytest.fixture
def truth_case(tmp_path, guard):
    """``truth_case(generator, **options)``: a known-truth case written under ``tmp_path``,
    its inputs checksummed."""
    def make(generator, folder="in", **options):
        case = generator(str(tmp_path / folder), **options)
        guard.watch(str(tmp_path / folder))
        return case
    return make


def test_set_anchoring_recovers_a_grid_of_real_tiles_up_to_one_gain_and_offset(truth_case,
                                                                               tmp_path):
    case = truth_case(known_truth.gain_offset_grid)
    result = run(case.paths, tmp_path / "set")
    assert_matches_truth(case, result.output_images)
    seams = np.array([pair[3] for pair in result.details["seams"]])
    assert np.abs(seams).max() < 0.1 and len(seams) == 20
    # the reference's per-image anchors leave a large part of every seam
    reference = run(case.paths, tmp_path / "per_image", anchoring="per_image")
    reference_seams = np.array([pair[3] for pair in reference.details["seams"]])
    assert np.abs(reference_seams).mean() > 0.1 * np.abs(np.array(
        [pair[2] for pair in reference.details["seams"]])).mean()
    assert known_truth.seam_score(case, reference.output_images) > 100 * known_truth.seam_score(
        case, result.output_images)


def test_set_anchoring_keeps_the_mean_of_the_model_images_whole_means(truth_case, tmp_path):
    case = truth_case(known_truth.gain_offset_grid, seed=11)
    result = run(case.paths, tmp_path / "out")
    before = np.mean([result.details["whole_stats"][name]["mean"]
                      for name in result.details["adjustments"]], axis=0)
    after = np.mean([H.read(path).astype(float)[:, valid].mean(axis=1) for path, valid in
                     zip(result.output_images, case.valid)], axis=0)
    np.testing.assert_allclose(after, before, rtol=1e-4)


def test_a_strip_of_six_tiles_does_not_drift(truth_case, tmp_path):
    case = truth_case(known_truth.gain_offset_grid, rows=1, cols=6, seed=12)
    result = run(case.paths, tmp_path / "out")
    assert_matches_truth(case, result.output_images)
    gains = gained_tiles(result.output_images, case)
    np.testing.assert_allclose(gains, gains[[0] * 6], rtol=1e-3)


def test_disconnected_groups_each_keep_their_own_level(truth_case, tmp_path):
    case = truth_case(known_truth.disconnected)
    result = run(case.paths, tmp_path / "out")
    assert any("separate groups" in message for message in result.warnings)
    groups = np.array(case.groups)
    for group in (0, 1):
        members = np.flatnonzero(groups == group)
        for (i, j), difference in known_truth.overlap_mean_differences(
                [result.output_images[k] for k in members]).items():
            assert np.abs(difference).max() < 0.1
        before = np.mean([result.details["whole_stats"][case.paths[k].split(os.sep)[-1][:-4]]
                          ["mean"] for k in members], axis=0)
        after = np.mean([H.read(result.output_images[k]).astype(float)[:, case.valid[k]]
                         .mean(axis=1) for k in members], axis=0)
        np.testing.assert_allclose(after, before, rtol=1e-4)


@pytest.mark.parametrize("model_tile", [0, 4])
def test_one_included_model_image_is_unchanged_and_the_others_match_it(truth_case, tmp_path,
                                                                       model_tile):
    case = truth_case(known_truth.gain_offset_grid, seed=13)
    name = os.path.splitext(os.path.basename(case.paths[model_tile]))[0]
    result = run(case.paths, tmp_path / "out", specify_model_images=("include", [name]))
    scale, offset = params(result, name)
    np.testing.assert_allclose(scale, 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(offset, 0.0, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(H.read(result.output_images[model_tile]),
                                  H.read(case.paths[model_tile]))
    assert_matches_truth(case, result.output_images)
    gains = gained_tiles(result.output_images, case)
    np.testing.assert_allclose(gains, gains[[model_tile] * 9], rtol=1e-3)
    np.testing.assert_allclose(gains[model_tile], case.gains[model_tile], rtol=1e-3)


def test_several_model_images_define_the_level_together(truth_case, tmp_path):
    case = truth_case(known_truth.gain_offset_grid, seed=14)
    names = [os.path.splitext(os.path.basename(path))[0] for path in case.paths]
    result = run(case.paths, tmp_path / "out", specify_model_images=("exclude", names[2:]))
    assert_matches_truth(case, result.output_images)
    means = {name: np.array(result.details["whole_stats"][name]["mean"]) for name in names[:2]}
    after = [params(result, name)[0] * means[name] + params(result, name)[1] for name in names[:2]]
    np.testing.assert_allclose(np.mean(after, axis=0), np.mean(list(means.values()), axis=0),
                               rtol=1e-9)


def test_a_cloud_in_one_overlap_with_robust_statistics(truth_case, tmp_path):
    case = truth_case(known_truth.cloud)
    result = run(case.paths, tmp_path / "out")
    assert_matches_truth(case, result.output_images)


def test_saved_statistics_solve_again_in_both_anchorings(truth_case, tmp_path):
    case = truth_case(known_truth.gain_offset_grid, seed=15)
    saved = tmp_path / "set.json"
    first = run(case.paths, tmp_path / "first", save_adjustments=str(saved))
    metadata = json.loads((tmp_path / "set.meta.json").read_text())
    assert metadata["anchoring"] == "set" and metadata["overlap_weight"] == "sqrt_pixel_pairs"
    assert sorted(metadata["images"]) == sorted(first.details["adjustments"])
    for anchoring in ("set", "per_image"):
        direct = run(case.paths, tmp_path / f"direct_{anchoring}", anchoring=anchoring)
        loaded = run(case.paths, tmp_path / f"loaded_{anchoring}", anchoring=anchoring,
                     load_adjustments=str(saved))
        for name in direct.details["adjustments"]:
            for got, expected in zip(params(loaded, name), params(direct, name)):
                np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)
    saved_reference = tmp_path / "per_image.json"
    run(case.paths, tmp_path / "third", save_adjustments=str(saved_reference),
        anchoring="per_image")
    metadata = json.loads((tmp_path / "per_image.meta.json").read_text())
    assert metadata["anchoring"] == "per_image" and metadata["overlap_weight"] == "pixel_pairs"


def test_adjustments_saved_for_other_images_are_used_with_a_warning(truth_case, tmp_path):
    case = truth_case(known_truth.gain_offset_grid, seed=16)
    saved = tmp_path / "saved.json"
    run(case.paths, tmp_path / "first", save_adjustments=str(saved))
    same = run(case.paths, tmp_path / "same", load_adjustments=str(saved))
    assert not any("does not describe" in message for message in same.warnings)
    other = truth_case(known_truth.gain_offset_grid, folder="other", rows=2, cols=2, overlap=0.5,
                       seed=16)
    result = run(other.paths, tmp_path / "other_out", load_adjustments=str(saved))
    described = [message for message in result.warnings if "does not describe" in message]
    assert len(described) == 4 and "saved.json" in described[0] and "extent" in described[0]


def test_unknown_anchoring_is_an_error(tiles, tmp_path):
    with pytest.raises(RadioMatchError, match="anchoring"):
        run(tiles.paths, tmp_path / "out", anchoring="group")


# ------------------------------------------------------------------------------------------------
# the reference's worked example, end to end (the model alone: test_core_global_model.py)

def example_document():
    return H.stats_document({
        "A": {"whole": (100.0, 10.0, 1000), "overlaps": {"B": (100.0, 10.0, 1000)}},
        "B": {"whole": (120.0, 15.0, 1000), "overlaps": {"A": (120.0, 15.0, 1000)}},
        "C": {"whole": (57.0, 4.0, 500)},
    })


@pytest.fixture
def example_rasters(tmp_path, guard):
    """Rasters named A, B and C, far apart (no geometric overlap), 1 band of uint16."""
    folder = tmp_path / "in"
    data = H.scene(20, 20, seed=5, low=50, high=200)
    paths = {}
    for k, name in enumerate("ABC"):
        paths[name] = H.write_tile(str(folder / f"{name}.tif"), data, 0, 0, 20, 20,
                                   dtype="uint16", nodata=0,
                                   origin=(H.ORIGIN[0] + 1000 * k, H.ORIGIN[1]))
    guard.watch(folder)
    return paths


def test_worked_example_end_to_end_from_a_hand_written_json(example_rasters, tmp_path):
    stored = H.write_json(str(tmp_path / "example.json"), example_document())
    # B occurs only in the JSON: it takes part in the model (anchor and stored overlap), no output
    resaved = tmp_path / "resaved.json"
    result = run([example_rasters["A"], example_rasters["C"]], tmp_path / "out",
                 load_adjustments=stored, save_adjustments=str(resaved), anchoring="per_image")
    assert sorted(result.details["adjustments"]) == ["A", "C"]
    assert sorted(os.listdir(tmp_path / "out")) == ["A_Global.tif", "C_Global.tif"]
    assert list(json.loads(resaved.read_text())) == ["A", "C"]     # JSON-only images dropped
    a_scale, a_offset = params(result, "A")
    c_scale, c_offset = params(result, "C")
    np.testing.assert_allclose([a_scale[0], a_offset[0]], [1.2466, -14.795], rtol=1e-4)
    assert a_scale[0] * 100 + a_offset[0] == pytest.approx(109.86, abs=0.005)
    assert a_scale[0] * 10 == pytest.approx(12.47, abs=0.005)
    np.testing.assert_allclose([c_scale[0], c_offset[0]], [1.0, 0.0], atol=1e-9)
    # the output really is a * v + b, rounded
    data = H.read(example_rasters["A"])
    expected = H.cast(np.float32(a_scale[0]) * data.astype(np.float32)
                             + np.float32(a_offset[0]), "uint16")
    np.testing.assert_array_equal(H.read(result.output_images[0]), expected)
    np.testing.assert_array_equal(H.read(result.output_images[1]), data)

    # every image an input: the stored statistics are used instead of the pixels
    result = run(list(example_rasters.values()), tmp_path / "out2", load_adjustments=stored,
                 anchoring="per_image")
    assert_worked_example(*[np.array([params(result, n)[i][0] for n in "ABC"]) for i in (0, 1)])

    result = run(list(example_rasters.values()), tmp_path / "out3", load_adjustments=stored,
                 specify_model_images=("include", ["A"]), anchoring="per_image")
    np.testing.assert_allclose([params(result, n)[0][0] for n in "ABC"], [1.0, 0.6667, 1.0],
                               rtol=1e-4)
    np.testing.assert_allclose([params(result, n)[1][0] for n in "ABC"], [0.0, 20.0, 0.0],
                               atol=1e-4)


# ------------------------------------------------------------------------------------------------
# tiling and parallelism never change the result


@pytest.mark.parametrize("options", [
    {"window_size": 37},
    {"window_size": (64, 17)},
    {"window_size": "internal"},
    {"window_size": 16, "image_parallel_workers": ("thread", 2)},
    {"window_size": (23, 9), "window_parallel_workers": ("thread", 2)},
    {"window_size": 37, "image_parallel_workers": ("process", 2),
     "window_parallel_workers": ("process", 2)},
    {"image_parallel_workers": ("thread", "cpu")},
], ids=["37", "64x17", "internal", "thread-images", "thread-windows", "process-both", "cpu"])
def test_outputs_do_not_depend_on_window_size_or_workers(tiles, tmp_path, options):
    baseline = run(tiles.paths, tmp_path / "baseline", window_size=None)
    other = run(tiles.paths, tmp_path / "other", **options)
    for first, second in zip(baseline.output_images, other.output_images):
        np.testing.assert_array_equal(H.read(first), H.read(second))
    for name in tiles.names:
        for first, second in zip(params(baseline, name), params(other, name)):
            np.testing.assert_allclose(first, second, rtol=1e-12, atol=1e-9)


def test_outputs_do_not_depend_on_input_order(tiles, tmp_path):
    forward = run(tiles.paths, tmp_path / "forward")
    backward = run(tiles.paths[::-1], tmp_path / "backward")
    assert ([os.path.basename(path) for path in backward.output_images]
            == [os.path.basename(path) for path in forward.output_images][::-1])
    for path in forward.output_images:
        other = os.path.join(tmp_path / "backward", os.path.basename(path))
        np.testing.assert_array_equal(H.read(path), H.read(other))


# ------------------------------------------------------------------------------------------------
# inputs and outputs: list, folder, glob; folder, template, list


def test_inputs_as_list_folder_and_glob_give_the_same_images(tiles, tmp_path):
    from_list = run(tiles.paths, tmp_path / "a")
    from_folder = run(tiles.folder, tmp_path / "b")
    from_glob = run(os.path.join(tiles.folder, "tile_*.tif"), tmp_path / "c")
    expected = [os.path.join(tmp_path / "b", f"{name}_Global.tif") for name in tiles.names]
    assert from_folder.output_images == expected
    for result in (from_folder, from_glob):
        assert list(result.details["adjustments"]) == tiles.names
        for first, second in zip(from_list.output_images, result.output_images):
            np.testing.assert_array_equal(H.read(first), H.read(second))


def test_glob_selects_only_matching_files_in_sorted_order(tiles, tmp_path):
    result = run(os.path.join(tiles.folder, "tile_[21].tif"), tmp_path / "out")
    assert list(result.details["adjustments"]) == ["tile_1", "tile_2"]


def test_outputs_as_folder_template_and_list(tiles, tmp_path):
    folder = run(tiles.paths, tmp_path / "folder" / "nested")
    assert folder.output_images == [
        os.path.join(tmp_path / "folder" / "nested", f"{n}_Global.tif") for n in tiles.names]
    template = run(tiles.paths, tmp_path / "tpl" / "balanced_$_v$.tif")
    assert template.output_images == [
        os.path.join(tmp_path / "tpl", f"balanced_{n}_v{n}.tif") for n in tiles.names]
    explicit = [str(tmp_path / "list" / f"out{k}.tif") for k in range(4)]
    listed = run(tiles.paths, explicit)
    assert listed.output_images == explicit
    for paths in (folder.output_images, template.output_images, explicit):
        for path, reference in zip(paths, folder.output_images):
            assert os.path.isfile(path)
            np.testing.assert_array_equal(H.read(path), H.read(reference))


@pytest.mark.parametrize("outputs", [3, 5])
def test_output_list_of_the_wrong_length_is_an_error(tiles, tmp_path, outputs):
    with pytest.raises(RadioMatchError, match="same length"):
        run(tiles.paths, [str(tmp_path / f"o{k}.tif") for k in range(outputs)])
    assert not os.path.exists(tmp_path / "o0.tif")


def test_output_template_without_dollar_is_an_error(tiles, tmp_path):
    with pytest.raises(RadioMatchError, match=r"\$"):
        run(tiles.paths, tmp_path / "same.tif")


# ------------------------------------------------------------------------------------------------
# statistics: float64, nearest sampling across grids


def test_statistics_are_float64_and_saved_in_full_precision(tmp_path, guard):
    """Values near 1e9 with a spread of a few units: any float32 step (accumulation, or rounding
    through calculation_dtype as REF does) destroys the mean and the std."""
    folder = tmp_path / "in"
    rng = np.random.default_rng(3)
    data = 1e9 + np.round(rng.normal(0, 3, (2, 30, 40)), 3)
    first = H.write_raster(str(folder / "f1.tif"), data[:, :, :30], H.scene_transform(),
                           dtype="float64")
    second = H.write_raster(str(folder / "f2.tif"), data[:, :, 10:], H.scene_transform(10),
                            dtype="float64")
    guard.watch(folder)
    saved = tmp_path / "stats.json"
    run([first, second], tmp_path / "out", save_adjustments=str(saved),
        calculation_dtype="float32")
    document = json.loads(saved.read_text())
    for band in range(2):
        whole = document["f1"]["whole_stats"][f"band_{band}"]
        assert whole["size"] == 30 * 30
        assert whole["mean"] == pytest.approx(data[band, :, :30].mean(), rel=1e-15, abs=1e-6)
        assert whole["std"] == pytest.approx(data[band, :, :30].std(), rel=1e-6)
        overlap_values = data[band, :, 10:30]
        for name in ("f1", "f2"):
            stats = document[name]["overlap_stats"]["f2" if name == "f1" else "f1"][f"band_{band}"]
            assert stats["size"] == 30 * 20
            assert stats["mean"] == pytest.approx(overlap_values.mean(), rel=1e-15, abs=1e-6)
            assert stats["std"] == pytest.approx(overlap_values.std(), rel=1e-6)


def test_statistics_of_integer_images_are_exact(tiles, tmp_path):
    saved = tmp_path / "stats.json"
    run(tiles.paths, tmp_path / "out", save_adjustments=str(saved), window_size=(13, 29))
    document = json.loads(saved.read_text())
    data = [valid_of(path) for path in tiles.paths]
    for k, name in enumerate(tiles.names):
        for band in range(2):
            values = data[k][0][band][data[k][1][band]].astype(np.float64)
            stats = document[name]["whole_stats"][f"band_{band}"]
            assert stats["size"] == values.size
            assert stats["mean"] == pytest.approx(values.mean(), rel=1e-13)
            assert stats["std"] == pytest.approx(values.std(ddof=0), rel=1e-11)


def piecewise_scene(cells_high, cells_wide, seed):
    """A scene constant over cells of 2 x 2 CRS units (values in 1000..3000)."""
    return H.scene(cells_high, cells_wide, seed=seed, low=1000, high=3000)


def sample(scene_cells, origin, pixel, height, width, cell=2.0):
    """Nearest sampling of a cell scene (origin H.ORIGIN, cell size ``cell``) at the pixel
    centres of a grid with top-left ``origin`` and square pixels of ``pixel``."""
    xs = origin[0] + (np.arange(width) + 0.5) * pixel
    ys = origin[1] - (np.arange(height) + 0.5) * pixel
    cols = np.floor((xs - H.ORIGIN[0]) / cell).astype(int)
    rows = np.floor((H.ORIGIN[1] - ys) / cell).astype(int)
    return scene_cells[:, rows[:, None], cols[None, :]]


@pytest.mark.parametrize("fine_first", [False, True], ids=["coarse-first", "fine-first"])
@pytest.mark.parametrize("shift", [0.0, 0.25], ids=["aligned", "misaligned"])
def test_different_pixel_sizes_and_misaligned_grids_pair_by_nearest_sampling(
        tmp_path, guard, fine_first, shift):
    """The same scene at 2 m and at 1 m (the 1 m grid optionally shifted by a quarter pixel);
    the fine image is distorted. Nearest sampling at pixel centres pairs identical scene values,
    so the fine image gets exactly the inverse distortion (scale 1/gain relative to the coarse
    image); bilinear resampling (REF) would not."""
    folder = tmp_path / "in"
    cells = piecewise_scene(40, 40, seed=11)
    coarse = sample(cells, H.ORIGIN, 2.0, 30, 30)
    fine_origin = (H.ORIGIN[0] + 24.0 + shift, H.ORIGIN[1] - 20.0 - shift)
    fine_true = sample(cells, fine_origin, 1.0, 50, 48)
    gain, offset = 1.4, -350.0
    names = ("b_fine", "a_coarse") if fine_first else ("a_coarse", "b_fine")
    coarse_path = H.write_raster(str(folder / f"{names[0] if not fine_first else names[1]}.tif"),
                                 coarse, H.scene_transform(), dtype="uint16", nodata=0)
    fine_path = H.write_raster(
        str(folder / f"{names[1] if not fine_first else names[0]}.tif"),
        H.cast(fine_true * gain + offset, "uint16"),
        rasterio.transform.from_origin(*fine_origin, 1.0, 1.0), dtype="uint16", nodata=0)
    guard.watch(folder)
    inputs = [fine_path, coarse_path] if fine_first else [coarse_path, fine_path]
    result = run(inputs, tmp_path / "out",
                 specify_model_images=("include", ["a_coarse"]))
    scale, bias = params(result, "b_fine")
    assert scale[0] == pytest.approx(1 / gain, rel=1e-4)
    assert bias[0] == pytest.approx(-offset / gain, abs=0.5)
    corrected = H.read(result.output_images[inputs.index(fine_path)])
    assert np.abs(corrected.astype(float) - fine_true).max() <= 1.0


@pytest.mark.parametrize("fine_first", [False, True], ids=["coarse-first", "fine-first"])
def test_overlap_statistics_use_nearest_samples_at_pixel_centres_and_skip_nodata(
        tmp_path, guard, fine_first):
    """Overlap statistics equal those computed by hand: the first image's pixels whose centres
    lie inside the intersection, the other image's nearest pixel, both valid."""
    folder = tmp_path / "in"
    rng = np.random.default_rng(21)
    coarse = rng.integers(100, 4000, (1, 30, 30)).astype("uint16")
    fine = rng.integers(100, 4000, (1, 41, 47)).astype("uint16")
    coarse[0, 12:16, 14:20] = 0                         # nodata holes in the overlap
    fine[0, 5:9, 3:12] = 0
    coarse_transform = H.scene_transform()
    fine_transform = rasterio.transform.from_origin(H.ORIGIN[0] + 23.3, H.ORIGIN[1] - 17.6,
                                                    1.0, 1.0)
    names = ("a", "b")
    first, second = ("fine", "coarse") if fine_first else ("coarse", "fine")
    grids = {"coarse": (coarse, coarse_transform), "fine": (fine, fine_transform)}
    paths = [H.write_raster(str(folder / f"{names[k]}.tif"), grids[kind][0], grids[kind][1],
                            nodata=0) for k, kind in enumerate((first, second))]
    guard.watch(folder)
    saved = tmp_path / "adjustments.json"
    run(paths, tmp_path / "out", save_adjustments=str(saved))
    document = json.loads(saved.read_text())

    (data_i, t_i), (data_j, t_j) = grids[first], grids[second]
    bounds = lambda d, t: (t.c, t.f + t.e * d.shape[1], t.c + t.a * d.shape[2], t.f)  # noqa: E731
    left, bottom, right, top = (max(a, b) if k < 2 else min(a, b) for k, (a, b) in
                                enumerate(zip(bounds(data_i, t_i), bounds(data_j, t_j))))
    pairs_i, pairs_j = [], []
    for row in range(data_i.shape[1]):
        for col in range(data_i.shape[2]):
            x, y = t_i * (col + 0.5, row + 0.5)
            if not (left < x < right and bottom < y < top):
                continue
            other_col, other_row = (int(np.floor(v)) for v in ~t_j * (x, y))
            v_i, v_j = data_i[0, row, col], data_j[0, other_row, other_col]
            if v_i != 0 and v_j != 0:
                pairs_i.append(float(v_i))
                pairs_j.append(float(v_j))
    stats_i = document["a"]["overlap_stats"]["b"]["band_0"]
    stats_j = document["b"]["overlap_stats"]["a"]["band_0"]
    assert stats_i["size"] == stats_j["size"] == len(pairs_i) > 100
    assert stats_i["mean"] == pytest.approx(np.mean(pairs_i), rel=1e-12)
    assert stats_i["std"] == pytest.approx(np.std(pairs_i), rel=1e-10)
    assert stats_j["mean"] == pytest.approx(np.mean(pairs_j), rel=1e-12)
    assert stats_j["std"] == pytest.approx(np.std(pairs_j), rel=1e-10)


# ------------------------------------------------------------------------------------------------
# model structure: groups, chains, factors


def test_disconnected_groups_are_solved_separately_with_a_warning(tmp_path, guard):
    folder = tmp_path / "in"
    data = H.scene(40, 70, seed=4)

    def write(gains, subfolder):
        paths = []
        for k, (name, col, east) in enumerate([("a", 0, 0), ("b", 30, 0), ("c", 0, 5000),
                                               ("d", 30, 5000)]):
            paths.append(H.write_tile(str(folder / subfolder / f"{name}.tif"), data, 0, col,
                                      40, 40, gain=gains[k], offset=10 * k, nodata=0,
                                      origin=(H.ORIGIN[0] + east, H.ORIGIN[1])))
        guard.watch(folder / subfolder)
        return paths

    first = run(write([1.0, 1.2, 0.9, 1.1], "one"), tmp_path / "out1")
    second = run(write([1.0, 1.2, 1.5, 0.7], "two"), tmp_path / "out2")
    for result in (first, second):
        assert any("2 separate groups" in message for message in result.warnings)
        groups = result.details["groups"]
        assert groups[0] == groups[1] != groups[2] == groups[3]
    # a and b do not depend on the other group's radiometry
    for name in ("a", "b"):
        for one, two in zip(params(first, name), params(second, name)):
            np.testing.assert_allclose(one, two, rtol=1e-10, atol=1e-8)
    # and each group is balanced within itself: its overlap disagreement shrinks
    for result, inputs in ((first, "one"), (second, "two")):
        out = [H.read(path).astype(float) for path in result.output_images]
        raw = [H.read(str(folder / inputs / f"{name}.tif")).astype(float) for name in "abcd"]
        for left, right in ((0, 1), (2, 3)):
            before = abs(raw[left][:, :, 30:].mean() - raw[right][:, :, :10].mean())
            after = abs(out[left][:, :, 30:].mean() - out[right][:, :, :10].mean())
            assert before > 100 and after < 0.25 * before


def test_excluded_images_are_matched_only_to_directly_overlapping_model_images(tmp_path, guard):
    """A chain a - b - c with only a in the model: b is matched to a; c touches only b, an
    excluded image, so it keeps identity and a warning says so (the reference uses only pairs
    with an included image)."""
    folder = tmp_path / "in"
    data = H.scene(30, 90, seed=9)
    paths = [H.write_tile(str(folder / f"{name}.tif"), data, 0, col, 30, 40, gain=gain,
                          nodata=0)
             for name, col, gain in (("a", 0, 1.0), ("b", 25, 1.3), ("c", 50, 0.8))]
    guard.watch(folder)
    result = run(paths, tmp_path / "out", specify_model_images=("include", ["a"]),
                 anchoring="per_image")
    assert params(result, "b")[0][0] == pytest.approx(1 / 1.3, rel=1e-3)
    np.testing.assert_allclose(params(result, "c")[0], 1.0, atol=1e-12)
    np.testing.assert_allclose(params(result, "c")[1], 0.0, atol=1e-9)
    np.testing.assert_array_equal(H.read(result.output_images[2]), H.read(paths[2]))
    assert any("'c'" in message and "constraint" in message for message in result.warnings)


def test_custom_mean_and_std_factors_change_the_solution_as_specified(tiles, tmp_path):
    saved = tmp_path / "default.json"
    default = run(tiles.paths, tmp_path / "d", save_adjustments=str(saved), anchoring="per_image")
    document = json.loads(saved.read_text())
    results = {(1.0, 1.0): default}
    for factors in ((6.0, 1.0), (1.0, 0.2)):
        results[factors] = run(tiles.paths, tmp_path / f"f{factors[0]:g}_{factors[1]:g}".replace(".", "p"),
                               custom_mean_factor=factors[0], custom_std_factor=factors[1],
                               anchoring="per_image")
    included = np.ones(4, dtype=bool)
    for band in range(2):
        whole_mean = [document[n]["whole_stats"][f"band_{band}"]["mean"] for n in tiles.names]
        whole_std = [document[n]["whole_stats"][f"band_{band}"]["std"] for n in tiles.names]
        flat = overlaps_from_document(document, tiles.names, band)
        for factors, result in results.items():
            scales, offsets = reference_model(included, whole_mean, whole_std, flat, *factors)
            for k, name in enumerate(tiles.names):
                got_scale, got_offset = params(result, name)
                assert got_scale[band] == pytest.approx(scales[k], rel=1e-9)
                assert got_offset[band] == pytest.approx(offsets[k], rel=1e-9, abs=1e-6)
        for factors in ((6.0, 1.0), (1.0, 0.2)):
            assert not np.allclose([params(results[factors], n)[0][band] for n in tiles.names],
                                   [params(default, n)[0][band] for n in tiles.names],
                                   rtol=1e-6)


@pytest.mark.parametrize("factor", [-1.0, float("nan"), True, "2"])
def test_bad_weight_factors_are_errors(tiles, tmp_path, factor):
    with pytest.raises(RadioMatchError, match="custom_std_factor"):
        run(tiles.paths, tmp_path / "out", custom_std_factor=factor)


# ------------------------------------------------------------------------------------------------
# specify_model_images


def test_include_and_exclude_select_the_same_model(tiles, tmp_path):
    include = run(tiles.paths, tmp_path / "i", specify_model_images=("include", ["tile_0"]))
    exclude = run(tiles.paths, tmp_path / "e",
                  specify_model_images=("exclude", ["tile_1", "tile_2", "tile_3"]))
    default = run(tiles.paths, tmp_path / "d")
    for name in tiles.names:
        for one, two in zip(params(include, name), params(exclude, name)):
            np.testing.assert_allclose(one, two, rtol=1e-12, atol=1e-9)
    assert not np.allclose(params(default, "tile_1")[0], params(include, "tile_1")[0])
    # every input still gets an output
    assert all(os.path.isfile(path) for path in exclude.output_images)


def test_unknown_model_image_names_are_ignored_with_a_warning(tiles, tmp_path):
    plain = run(tiles.paths, tmp_path / "p", specify_model_images=("include", ["tile_0"]))
    assert not any("nosuchtile" in message for message in plain.warnings)
    warned = run(tiles.paths, tmp_path / "w",
                 specify_model_images=("include", ["tile_0", "nosuchtile"]))
    assert any("nosuchtile" in message for message in warned.warnings)
    for name in tiles.names:
        np.testing.assert_array_equal(params(plain, name)[0], params(warned, name)[0])


@pytest.mark.parametrize("selection", [
    ("include", ["nosuchtile"]),
    ("include", []),
    ("exclude", ["tile_0", "tile_1", "tile_2", "tile_3"]),
])
def test_an_empty_model_is_an_error(tiles, tmp_path, selection):
    with pytest.raises(RadioMatchError, match="specify_model_images"):
        run(tiles.paths, tmp_path / "out", specify_model_images=selection)
    assert not os.path.exists(tmp_path / "out") or not os.listdir(tmp_path / "out")


@pytest.mark.parametrize("selection", [("maybe", ["tile_0"]), ("include", "tile_0"), "tile_0"])
def test_malformed_model_selection_is_an_error(tiles, tmp_path, selection):
    with pytest.raises(RadioMatchError, match="specify_model_images"):
        run(tiles.paths, tmp_path / "out", specify_model_images=selection)


# ------------------------------------------------------------------------------------------------
# nodata, masks


@pytest.mark.parametrize("tagged", [True, False], ids=["nodata-nan", "no-nodata-tag"])
def test_nan_pixels_of_float_images_are_never_valid(tmp_path, guard, tagged):
    folder = tmp_path / "in"
    data = H.scene(40, 70, seed=6, low=0.05, high=0.6)
    holes = np.zeros((40, 40), dtype=bool)
    holes[10:20, 32:38] = True                         # in the overlap
    first = H.write_tile(str(folder / "a.tif"), data, 0, 0, 40, 40, dtype="float32",
                         nodata=np.nan if tagged else None, holes=holes)
    holes_b = np.zeros((40, 40), dtype=bool)
    holes_b[25:30, 0:5] = True
    second = H.write_tile(str(folder / "b.tif"), data, 0, 30, 40, 40, gain=1.6, offset=0.02,
                          dtype="float32", nodata=np.nan if tagged else None, holes=holes_b)
    guard.watch(folder)
    result = run([first, second], tmp_path / "out", specify_model_images=("include", ["a"]))
    assert params(result, "b")[0][0] == pytest.approx(1 / 1.6, rel=1e-4)
    out = H.read(result.output_images[1])
    np.testing.assert_array_equal(np.isnan(out[0]), holes_b)
    np.testing.assert_allclose(out[0][~holes_b], data[0, :, 30:70][~holes_b], atol=1e-5)
    with rasterio.open(result.output_images[1]) as dataset:
        assert (dataset.nodata is not None and np.isnan(dataset.nodata)) == tagged


def test_adjustment_files_are_strict_json_with_nan_nodata(tmp_path, guard):
    folder = tmp_path / "in"
    data = H.scene(20, 30, seed=6, low=0.05, high=0.6)
    paths = [H.write_tile(str(folder / "a.tif"), data, 0, 0, 20, 20, dtype="float32",
                          nodata=np.nan),
             H.write_tile(str(folder / "b.tif"), data, 0, 10, 20, 20, dtype="float32",
                          nodata=np.nan, gain=1.1)]
    guard.watch(folder)
    saved = tmp_path / "nan.json"
    run(paths, tmp_path / "out", save_adjustments=str(saved))

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    for path in (saved, tmp_path / "nan.meta.json"):
        json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_nodata_override_with_differing_file_nodata(tmp_path, guard):
    folder = tmp_path / "in"
    data = H.scene(40, 70, seed=8)
    first = H.write_tile(str(folder / "a.tif"), data, 0, 0, 40, 40, nodata=0)
    holes_b = np.zeros((40, 40), dtype=bool)
    holes_b[20:30, 0:10] = True
    # b's fill is 0 too but its file says 65535
    second = H.write_tile(str(folder / "b.tif"), data, 0, 30, 40, 40, gain=1.2, offset=-100,
                          nodata=65535, holes=holes_b)
    with rasterio.open(second, "r+") as dataset:
        array = dataset.read()
        array[:, holes_b] = 0
        dataset.write(array)
    guard.watch(folder)
    with pytest.raises(RadioMatchError, match="b.tif"):
        run([first, second], tmp_path / "out")
    result = run([first, second], tmp_path / "out", custom_nodata_value=0,
                 specify_model_images=("include", ["a"]))
    assert params(result, "b")[0][0] == pytest.approx(1 / 1.2, rel=1e-3)
    for path in result.output_images:
        with rasterio.open(path) as dataset:
            assert dataset.nodata == 0
    out = H.read(result.output_images[1])[0]
    assert (out[holes_b] == 0).all()
    assert (out[~holes_b] > 0).all()
    assert np.abs(out[~holes_b].astype(float) - data[0, :, 30:70][~holes_b]).max() <= 1.0


def test_gdal_mask_band_is_honoured(tmp_path, guard):
    folder = tmp_path / "in"
    data = H.scene(40, 70, seed=12)
    first = H.write_tile(str(folder / "a.tif"), data, 0, 0, 40, 40)
    values = H.cast(data[:, :, 30:70] * 0.85 + 200, "uint16")
    invalid = np.zeros((40, 40), dtype=bool)
    invalid[0:25, 0:6] = True                         # garbage under the mask, in the overlap
    values[:, invalid] = 60000
    second = H.write_raster(str(folder / "b.tif"), values, H.scene_transform(30),
                            mask=~invalid)
    guard.watch(folder)
    result = run([first, second], tmp_path / "out", specify_model_images=("include", ["a"]))
    assert params(result, "b")[0][0] == pytest.approx(1 / 0.85, rel=1e-3)
    out = H.read(result.output_images[1])[0]
    assert np.abs(out[~invalid].astype(float) - data[0, :, 30:70][~invalid]).max() <= 1.0
    assert (out[invalid] == 60000).all()       # invalid pixels keep their value
    assert any("no nodata" in message for message in result.warnings)


def forced_run(tmp_path, guard, values, **options):
    """Image b (the given uint16 values, nodata 0) gets scale 0.5 and offset -50 exactly: the
    hand-written statistics of a JSON make b match a (mean 0, std 10) from mean 100, std 20."""
    folder = tmp_path / "in"
    first = H.write_raster(str(folder / "a.tif"), np.full((1, 4, 4), 7, "uint16"),
                           H.scene_transform(), nodata=0)
    second = H.write_raster(str(folder / "b.tif"), np.asarray(values, "uint16")[None],
                            H.scene_transform(1000), nodata=0)
    guard.watch(folder)
    stored = H.write_json(str(tmp_path / "forced.json"), H.stats_document({
        "a": {"whole": (0.0, 10.0, 16), "overlaps": {"b": (0.0, 10.0, 100)}},
        "b": {"whole": (100.0, 20.0, 16), "overlaps": {"a": (100.0, 20.0, 100)}}}))
    result = run([first, second], tmp_path / "out", load_adjustments=stored,
                 specify_model_images=("include", ["a"]), **options)
    scale, offset = params(result, "b")
    assert scale[0] == pytest.approx(0.5, abs=1e-12)
    assert offset[0] == pytest.approx(-50.0, abs=1e-9)
    return result, H.read(result.output_images[1])[0]


def test_integer_outputs_round_half_away_from_zero(tmp_path, guard):
    values = [[95, 97, 99, 101, 103, 105, 107, 301]]
    result, out = forced_run(tmp_path, guard, values, output_dtype="int16")
    # v / 2 - 50 = -2.5 -1.5 -0.5 0.5 1.5 2.5 3.5 100.5 (numpy truncation, REF, and
    # round-half-to-even would give other values)
    np.testing.assert_array_equal(out, [[-3, -2, -1, 1, 2, 3, 4, 101]])
    assert out.dtype == np.int16
    assert sum(result.clipped_pixels.values()) == 0


def test_integer_outputs_are_clipped_and_nodata_collisions_nudged_with_counts(tmp_path, guard):
    values = np.array([[0, 2, 98, 99, 100, 101, 102, 400],
                       [609, 610, 611, 612, 1000, 60000, 0, 300]])
    result, out = forced_run(tmp_path, guard, values, output_dtype="uint8")
    valid = values != 0
    exact = values / 2.0 - 50.0
    rounded = np.trunc(exact + np.copysign(0.5, exact))
    expected = np.clip(rounded, 0, 255)
    expected[valid & (expected == 0)] = 1                # nudged off nodata 0
    expected[~valid] = 0
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8
    # spot checks of the rounding, clipping and nudging: -49 -> 0 -> nudged 1; 0.5 -> 1; 255.5 -> 256 -> 255; 29950 -> 255
    assert out[0, 1] == 1 and out[0, 5] == 1 and out[1, 2] == 255 and out[1, 5] == 255
    path_b = result.output_images[1]
    assert result.clipped_pixels[path_b] == int(np.count_nonzero(
        valid & ((rounded < 0) | (rounded > 255))))
    assert result.clipped_pixels[path_b] == 7      # 2, 98, 99, 611, 612, 1000, 60000
    assert result.nudged_pixels[path_b] == int(np.count_nonzero(valid & (np.clip(rounded, 0, 255) == 0)))
    assert result.nudged_pixels[path_b] == 4       # 2, 98, 99, 100
    assert any("clipped" in message for message in result.warnings)
    assert any("nodata" in message and "moved" in message for message in result.warnings)


def test_nodata_collisions_move_towards_the_unrounded_value(tmp_path, guard):
    """int16 output, nodata 0: -0.25 rounds to 0, the nodata value; the nearest other value on
    its side is -1 (and +0.25 gives +1)."""
    folder = tmp_path / "in"
    first = H.write_raster(str(folder / "a.tif"), np.full((1, 4, 4), 7.0), H.scene_transform(),
                           dtype="float32", nodata=0)
    second = H.write_raster(str(folder / "b.tif"), np.array([[[99.5, 100.5, 100.0, 96.0]]]),
                            H.scene_transform(1000), dtype="float32", nodata=0)
    guard.watch(folder)
    stored = H.write_json(str(tmp_path / "forced.json"), H.stats_document({
        "a": {"whole": (0.0, 10.0, 16), "overlaps": {"b": (0.0, 10.0, 100)}},
        "b": {"whole": (100.0, 20.0, 4), "overlaps": {"a": (100.0, 20.0, 100)}}}))
    result = run([first, second], tmp_path / "out", load_adjustments=stored,
                 specify_model_images=("include", ["a"]), output_dtype="int16")
    # v / 2 - 50 = -0.25, 0.25, 0, -2
    np.testing.assert_array_equal(H.read(result.output_images[1])[0], [[-1, 1, 1, -2]])
    assert result.nudged_pixels[result.output_images[1]] == 3


def test_extreme_scales_are_warned(tmp_path, guard):
    folder = tmp_path / "in"
    first = H.write_raster(str(folder / "a.tif"), np.full((1, 4, 4), 7, "uint16"),
                           H.scene_transform(), nodata=0)
    second = H.write_raster(str(folder / "b.tif"), np.full((1, 4, 4), 9, "uint16"),
                            H.scene_transform(1000), nodata=0)
    guard.watch(folder)
    stored = H.write_json(str(tmp_path / "forced.json"), H.stats_document({
        "a": {"whole": (50.0, 10.0, 16), "overlaps": {"b": (50.0, 10.0, 100)}},
        "b": {"whole": (100.0, 400.0, 16), "overlaps": {"a": (100.0, 400.0, 100)}}}))
    saved = tmp_path / "saved.json"
    result = run([first, second], tmp_path / "out", load_adjustments=stored,
                 save_adjustments=str(saved), specify_model_images=("include", ["a"]))
    assert params(result, "b")[0][0] == pytest.approx(0.025)
    assert any("'b'" in message and "extreme" in message for message in result.warnings)
    assert not any("'a'" in message and "extreme" in message for message in result.warnings)
    meta = json.loads((tmp_path / "saved.meta.json").read_text())
    assert any("'b'" in message and "extreme" in message for message in meta["warnings"])


@pytest.mark.parametrize("layout", ["one-image", "apart"])
def test_without_overlaps_every_image_keeps_identity_with_a_warning(tmp_path, guard, layout):
    folder = tmp_path / "in"
    data = H.scene(20, 20, seed=3)
    paths = [H.write_tile(str(folder / "a.tif"), data, 0, 0, 20, 20, nodata=0)]
    if layout == "apart":
        paths.append(H.write_tile(str(folder / "b.tif"), data, 0, 0, 20, 20, gain=1.5,
                                  nodata=0, origin=(H.ORIGIN[0] + 40.0, H.ORIGIN[1])))
    guard.watch(folder)
    result = run(paths, tmp_path / "out")
    for source, output in zip(paths, result.output_images):
        np.testing.assert_array_equal(H.read(output), H.read(source))
    assert any("overlap" in message for message in result.warnings)


def test_float_output_never_writes_nodata_for_a_valid_pixel(tmp_path, guard):
    result, out = forced_run(tmp_path, guard, [[100, 102, 0, 98]], output_dtype="float32",
                             custom_nodata_value=0)
    assert out[0, 0] != 0 and out[0, 0] == pytest.approx(0.0, abs=1e-30)
    np.testing.assert_array_equal(out[0, 1:], [1.0, 0.0, -1.0])
    assert result.nudged_pixels[result.output_images[1]] == 1


# ------------------------------------------------------------------------------------------------
# vector masks


class CloudPair:
    """a (reference) and b (gain 1.25, offset -300) overlap in scene columns 30..40 of rows
    0..40; b has a bright 'cloud' in the overlap that biases an unmasked fit."""

    def __init__(self, folder):
        self.data = H.scene(40, 70, seed=13)
        self.first = H.write_tile(os.path.join(folder, "tile_a.tif"), self.data, 0, 0, 40, 40,
                                  nodata=0)
        values = H.cast(self.data[:, :, 25:65] * 1.25 - 300, "uint16")
        self.cloud = np.zeros((40, 40), dtype=bool)
        self.cloud[4:16, 6:14] = True                 # b's pixels; scene cols 31..38
        values[:, self.cloud] += 2500
        self.second = H.write_raster(os.path.join(folder, "tile_b.tif"), values,
                                     H.scene_transform(25), nodata=0)

    @staticmethod
    def box(row0, col0, row1, col1, pad=0.25):
        """A polygon (raster CRS) around scene pixels rows row0..row1-1, cols col0..col1-1."""
        x0 = H.ORIGIN[0] + (col0 - pad) * H.PIXEL
        x1 = H.ORIGIN[0] + (col1 + pad) * H.PIXEL
        y0 = H.ORIGIN[1] - (row0 - pad) * H.PIXEL
        y1 = H.ORIGIN[1] - (row1 + pad) * H.PIXEL
        return {"type": "Polygon", "coordinates": [[(x0, y0), (x1, y0), (x1, y1), (x0, y1),
                                                    (x0, y0)]]}

    def cloud_box(self):
        return self.box(4, 31, 16, 39)


def collection(geometries, crs=None, properties=None):
    """A FeatureCollection of raster-CRS polygons reprojected to ``crs`` (None: WGS 84 without a
    crs member, as RFC 7946 says)."""
    target = crs or "EPSG:4326"
    features = [{"type": "Feature", "properties": (properties or [{}] * len(geometries))[k],
                 "geometry": transform_geom(H.CRS, target, geometry)}
                for k, geometry in enumerate(geometries)]
    document = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return document


@pytest.fixture
def cloud(tmp_path, guard):
    folder = tmp_path / "in"
    folder.mkdir()
    made = CloudPair(str(folder))
    guard.watch(folder)
    return made


def assert_recovered(result, cloud_pair, tolerance=1e-3):
    assert params(result, "tile_b")[0][0] == pytest.approx(1 / 1.25, rel=tolerance)
    out = H.read(result.output_images[1])[0].astype(float)
    truth = cloud_pair.data[0, :, 25:65]
    assert np.abs(out - truth)[~cloud_pair.cloud].max() <= 1.0
    # the mask limits the statistics only: the cloud is corrected like every other pixel
    assert np.abs(out - (truth + 2500 / 1.25))[cloud_pair.cloud].max() <= 1.0


def test_without_a_mask_the_cloud_biases_the_all_pixels_fit(cloud, tmp_path):
    result = run([cloud.first, cloud.second], tmp_path / "out",
                 specify_model_images=("include", ["tile_a"]), overlap_statistics="all_pixels")
    assert abs(params(result, "tile_b")[0][0] * 1.25 - 1) > 0.05


@pytest.mark.parametrize("form", ["file-wgs84", "file-urn-crs84", "dict-epsg4326",
                                  "dict-epsg3857", "dict-urn-raster-crs", "dict-raster-crs-wkt"])
def test_vector_mask_exclude_in_another_crs_is_reprojected(cloud, tmp_path, form):
    if form == "file-wgs84":
        source = H.write_json(str(tmp_path / "mask.geojson"), collection([cloud.cloud_box()]))
    elif form == "file-urn-crs84":                  # as QGIS writes GeoJSON files
        source = H.write_json(str(tmp_path / "mask.geojson"), collection(
            [cloud.cloud_box()], crs="urn:ogc:def:crs:OGC:1.3:CRS84"))
    elif form == "dict-urn-raster-crs":
        source = collection([cloud.cloud_box()], crs="urn:ogc:def:crs:EPSG::32618")
    elif form == "dict-epsg4326":
        source = collection([cloud.cloud_box()], crs="EPSG:4326")
    elif form == "dict-epsg3857":
        source = collection([cloud.cloud_box()], crs="EPSG:3857")
    else:
        source = collection([cloud.cloud_box()], crs=rasterio.crs.CRS.from_string(H.CRS).to_wkt())
    result = run([cloud.first, cloud.second], tmp_path / "out",
                 vector_mask=("exclude", source), specify_model_images=("include", ["tile_a"]))
    assert_recovered(result, cloud)


def test_vector_mask_include_keeps_only_pixels_inside(cloud, tmp_path):
    clean = cloud.box(20, 25, 40, 40)                     # overlap rows below the cloud
    source = collection([clean], crs="EPSG:4326")
    saved = tmp_path / "stats.json"
    result = run([cloud.first, cloud.second], tmp_path / "out", save_adjustments=str(saved),
                 vector_mask=("include", source), specify_model_images=("include", ["tile_a"]))
    assert_recovered(result, cloud)
    # whole-image statistics are limited to the polygon too
    document = json.loads(saved.read_text())
    for name, path, cols in (("tile_a", cloud.first, slice(25, 40)),
                             ("tile_b", cloud.second, slice(0, 15))):
        inside = H.read(path)[0, 20:40, cols].astype(float)
        stats = document[name]["whole_stats"]["band_0"]
        assert stats["size"] == inside.size
        assert stats["mean"] == pytest.approx(inside.mean(), rel=1e-12)
        assert stats["std"] == pytest.approx(inside.std(), rel=1e-10)


def test_vector_mask_name_field_selects_features_by_whole_name(cloud, tmp_path):
    everything = cloud.box(0, 25, 40, 40)
    source = collection([cloud.cloud_box(), everything], crs="EPSG:4326",
                        properties=[{"image": "tile_b"}, {"image": "tile_bb"}])
    result = run([cloud.first, cloud.second], tmp_path / "out",
                 vector_mask=("exclude", source, "image"),
                 specify_model_images=("include", ["tile_a"]))
    assert_recovered(result, cloud)
    # a list of names in the field selects each of them
    source = collection([cloud.cloud_box()], crs="EPSG:4326",
                        properties=[{"image": "other; tile_b"}])
    result = run([cloud.first, cloud.second], tmp_path / "out2",
                 vector_mask=("exclude", source, "image"),
                 specify_model_images=("include", ["tile_a"]))
    assert_recovered(result, cloud)


@pytest.mark.parametrize("mode", ["include", "exclude"])
def test_vector_mask_field_values_naming_no_image_are_warned_in_both_modes(cloud, tmp_path,
                                                                          mode):
    # a naming convention that differs from the file names ('TILE_B'): the mask applies to
    # no image, which must not pass silently
    source = collection([cloud.cloud_box()], crs="EPSG:4326",
                        properties=[{"image": "TILE_B; tile_9"}])
    result = run([cloud.first, cloud.second], tmp_path / "out",
                 vector_mask=(mode, source, "image"))
    warned = [message for message in result.warnings if "name no input image" in message]
    assert len(warned) == 1, result.warnings
    assert "'TILE_B'" in warned[0] and "'tile_9'" in warned[0] and "'image'" in warned[0]
    source = collection([cloud.cloud_box()], crs="EPSG:4326", properties=[{"image": "tile_b"}])
    result = run([cloud.first, cloud.second], tmp_path / "out2",
                 vector_mask=(mode, source, "image"))
    assert not any("name no input image" in message for message in result.warnings)


def test_vector_mask_include_with_no_feature_for_an_image_keeps_none_of_its_pixels(cloud,
                                                                                    tmp_path):
    source = collection([cloud.box(0, 0, 40, 70)], crs="EPSG:4326",
                        properties=[{"image": "tile_a"}])
    result = run([cloud.first, cloud.second], tmp_path / "out",
                 vector_mask=("include", source, "image"))
    assert any("tile_b" in message and "vector mask" in message for message in result.warnings)
    # no pixel of b enters the statistics: no valid overlap pair, so b is left alone
    assert any("share no valid pixel" in message for message in result.warnings)


def test_vector_mask_with_an_unknown_field_is_an_error(cloud, tmp_path):
    source = collection([cloud.cloud_box()], crs="EPSG:4326", properties=[{"image": "tile_b"}])
    with pytest.raises(RadioMatchError, match="nosuchfield"):
        run([cloud.first, cloud.second], tmp_path / "out",
            vector_mask=("exclude", source, "nosuchfield"))


# ------------------------------------------------------------------------------------------------
# adjustments JSON


def test_adjustments_json_round_trip(tiles, tmp_path):
    saved = tmp_path / "adjustments.json"
    first = run(tiles.paths, tmp_path / "one", save_adjustments=str(saved))
    text = saved.read_text(encoding="utf-8")
    assert text.startswith('{\n  "tile_0": {\n    "')            # indent=2
    document = json.loads(text)
    assert list(document) == tiles.names                           # no extra top-level key
    for name in tiles.names:
        entry = document[name]
        assert set(entry) == {"adjustments", "whole_stats", "overlap_stats"}
        assert list(entry["adjustments"]) == ["band_0", "band_1"]
        assert list(entry["whole_stats"]) == ["band_0", "band_1"]
        scales, offsets = params(first, name)
        for band in range(2):
            assert entry["adjustments"][f"band_{band}"] == {"scale": scales[band],
                                                            "offset": offsets[band]}
            assert set(entry["whole_stats"][f"band_{band}"]) == {"mean", "std", "size"}
            assert isinstance(entry["whole_stats"][f"band_{band}"]["size"], int)
        assert sorted(entry["overlap_stats"]) == sorted(set(tiles.names) - {name})
        for other, table in entry["overlap_stats"].items():
            reverse = document[other]["overlap_stats"][name]
            for band in range(2):
                assert table[f"band_{band}"]["size"] == reverse[f"band_{band}"]["size"] > 0
    sidecar = tmp_path / "adjustments.meta.json"
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert meta["bands"] == 2 and meta["nodata"] == 0

    second = run(tiles.paths, tmp_path / "two", load_adjustments=str(saved))
    for one, two in zip(first.output_images, second.output_images):
        np.testing.assert_array_equal(H.read(one), H.read(two))

    # the stored adjustments are ignored, the stored statistics are used
    for entry in document.values():
        for band in entry["adjustments"].values():
            band["scale"], band["offset"] = 123.0, -4.0
    edited = H.write_json(str(tmp_path / "edited.json"), document)
    third = run(tiles.paths, tmp_path / "three", load_adjustments=edited)
    for one, three in zip(first.output_images, third.output_images):
        np.testing.assert_array_equal(H.read(one), H.read(three))
    document["tile_1"]["whole_stats"]["band_0"]["mean"] += 500.0
    edited = H.write_json(str(tmp_path / "edited2.json"), document)
    fourth = run(tiles.paths, tmp_path / "four", load_adjustments=edited)
    assert not np.allclose(params(fourth, "tile_1")[1][0], params(first, "tile_1")[1][0])


def test_load_then_save_keeps_the_statistics(tiles, tmp_path):
    saved, again = tmp_path / "a.json", tmp_path / "b.json"
    run(tiles.paths, tmp_path / "one", save_adjustments=str(saved))
    run(tiles.paths, tmp_path / "two", load_adjustments=str(saved), save_adjustments=str(again))
    assert json.loads(saved.read_text()) == json.loads(again.read_text())


def test_save_adjustments_to_a_bare_file_name(tiles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(tiles.paths, tmp_path / "out", save_adjustments="bare.json")
    assert list(json.loads((tmp_path / "bare.json").read_text())) == tiles.names
    assert (tmp_path / "bare.meta.json").is_file()


# ------------------------------------------------------------------------------------------------
# output files


def test_output_keeps_grid_crs_nodata_and_is_tiled_and_compressed(tiles, tmp_path):
    result = run(tiles.paths, tmp_path / "out")
    for source, output in zip(tiles.paths, result.output_images):
        with rasterio.open(source) as expected, rasterio.open(output) as got:
            assert got.crs == expected.crs
            assert got.transform == expected.transform
            assert (got.width, got.height, got.count) == (expected.width, expected.height, 2)
            assert got.nodata == expected.nodata == 0
            assert got.dtypes == expected.dtypes
            assert got.profile["tiled"] is True
            assert got.compression is not None and got.compression.name == "deflate"
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        f"{name}_Global.tif" for name in tiles.names)


def test_save_as_cog_writes_a_cloud_optimized_geotiff(tmp_path, guard):
    folder = tmp_path / "in"
    data = H.scene(600, 700, seed=2, low=10, high=250)
    paths = [H.write_tile(str(folder / "a.tif"), data, 0, 0, 600, 600, dtype="uint8", nodata=0),
             H.write_tile(str(folder / "b.tif"), data, 0, 100, 600, 600, gain=0.9, offset=5,
                          dtype="uint8", nodata=0)]
    guard.watch(folder)
    plain = run(paths, tmp_path / "plain")
    result = run(paths, tmp_path / "cog", save_as_cog=True)
    for source, output, reference in zip(paths, result.output_images, plain.output_images):
        with rasterio.open(output) as dataset, rasterio.open(source) as expected:
            assert dataset.overviews(1)
            assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert dataset.crs == expected.crs and dataset.transform == expected.transform
            assert dataset.nodata == 0
            assert dataset.compression.name == "deflate"
        np.testing.assert_array_equal(H.read(output), H.read(reference))
    assert sorted(os.listdir(tmp_path / "cog")) == ["a_Global.tif", "b_Global.tif"]


# ------------------------------------------------------------------------------------------------
# progress and cancellation


def test_progress_runs_from_zero_to_one(tiles, tmp_path):
    calls = []
    run(tiles.paths, tmp_path / "out", window_size=32,
        progress_callback=lambda fraction, message: calls.append((fraction, message)))
    fractions = [fraction for fraction, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert all(b >= a for a, b in zip(fractions, fractions[1:]))
    assert len(set(fractions)) > 10                    # it reports between tiles
    assert all(isinstance(message, str) and message for _, message in calls)
    assert len({message for _, message in calls}) >= 3  # statistics, solve, apply ...


@pytest.mark.parametrize("workers", [None, ("thread", 2)], ids=["serial", "threads"])
@pytest.mark.parametrize("stage", ["statistics", "Solving", "Applying", "Finishing",
                                   "Finishing-cog"])
def test_cancel_removes_every_output_and_partial_file(tiles, tmp_path, stage, workers):
    cog = stage.endswith("-cog")
    stage = stage.replace("-cog", "")
    out = tmp_path / "out"
    seen = {"partials": False, "calls": 0}

    def callback(fraction, message):
        seen["calls"] += 1
        if out.is_dir() and os.listdir(out):
            seen["partials"] = True
        if stage in ("Applying", "Finishing"):
            return stage in message and fraction > 0.5
        return stage in message and seen["calls"] > 2 if stage == "statistics" else \
            stage in message

    with pytest.raises(CancelledError):
        run(tiles.paths, out, window_size=16, image_parallel_workers=workers, save_as_cog=cog,
            save_adjustments=str(tmp_path / "adjustments.json"), progress_callback=callback)
    assert os.listdir(out) == []
    assert not (tmp_path / "adjustments.json").exists()
    if stage in ("Applying", "Finishing"):
        assert seen["partials"]                # there was something to clean up


# ------------------------------------------------------------------------------------------------
# bad input


def write_single(path, **options):
    data = H.scene(20, 20, seed=1)
    return H.write_tile(str(path), data, 0, 0, 20, 20, **options)


@pytest.fixture
def good(tmp_path, guard):
    """Two valid overlapping images in tmp_path/in."""
    folder = tmp_path / "in"
    data = H.scene(20, 30, seed=1)
    paths = [H.write_tile(str(folder / "good_a.tif"), data, 0, 0, 20, 20, nodata=0),
             H.write_tile(str(folder / "good_b.tif"), data, 0, 10, 20, 20, nodata=0)]
    guard.watch(folder)
    return paths


def assert_error_names(call, name):
    with pytest.raises(RadioMatchError) as info:
        call()
    assert name in str(info.value), str(info.value)
    return str(info.value)


def test_no_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RadioMatchError):
        run([], tmp_path / "out")
    assert_error_names(lambda: run(str(tmp_path / "empty"), tmp_path / "out"), "empty")
    assert_error_names(lambda: run(str(tmp_path / "empty" / "*.tif"), tmp_path / "out"),
                       "*.tif")


def test_missing_file(good, tmp_path):
    assert_error_names(lambda: run(good + [str(tmp_path / "missing_c.tif")], tmp_path / "out"),
                       "missing_c.tif")
    (tmp_path / "a_folder.tif").mkdir()
    assert_error_names(lambda: run(good + [str(tmp_path / "a_folder.tif")], tmp_path / "out"),
                       "a_folder.tif")


def test_text_file_named_tif(good, tmp_path, guard):
    fake = tmp_path / "other" / "notes.tif"
    fake.parent.mkdir()
    fake.write_text("this is not a raster\n")
    guard.watch(fake.parent)
    assert_error_names(lambda: run(good + [str(fake)], tmp_path / "out"), "notes.tif")


def test_mismatched_crs(good, tmp_path, guard):
    other = write_single(tmp_path / "other" / "wrong_crs.tif", nodata=0, crs="EPSG:32617")
    guard.watch(tmp_path / "other")
    assert_error_names(lambda: run(good + [other], tmp_path / "out"), "wrong_crs.tif")


def test_mismatched_band_count(good, tmp_path, guard):
    data = np.stack([H.scene(20, 20, seed=1)[0]] * 2)
    other = H.write_tile(str(tmp_path / "other" / "two_bands.tif"), data, 0, 0, 20, 20, nodata=0)
    guard.watch(tmp_path / "other")
    assert_error_names(lambda: run(good + [other], tmp_path / "out"), "two_bands.tif")


def test_differing_nodata_without_override(good, tmp_path, guard):
    other = write_single(tmp_path / "other" / "nodata_9.tif", nodata=9)
    guard.watch(tmp_path / "other")
    message = assert_error_names(lambda: run(good + [other], tmp_path / "out"), "nodata_9.tif")
    assert "nodata" in message
    result = run(good + [other], tmp_path / "out", custom_nodata_value=9)
    assert len(result.output_images) == 3


def test_rotated_geotransform(good, tmp_path, guard):
    rotated = rasterio.Affine(2.0, 0.3, H.ORIGIN[0], 0.2, -2.0, H.ORIGIN[1])
    other = H.write_raster(str(tmp_path / "other" / "rotated.tif"), H.scene(20, 20, seed=1),
                           rotated, dtype="uint16", nodata=0)
    guard.watch(tmp_path / "other")
    message = assert_error_names(lambda: run(good + [other], tmp_path / "out"), "rotated.tif")
    assert "rotated" in message


def test_duplicate_names_from_two_folders(good, tmp_path, guard):
    twin = tmp_path / "elsewhere" / "good_a.tif"
    twin.parent.mkdir()
    shutil.copy(good[0], twin)
    guard.watch(twin.parent)
    message = assert_error_names(lambda: run(good + [str(twin)], tmp_path / "out"), "good_a")
    assert "elsewhere" in message


def test_output_equal_to_input(good, tmp_path):
    assert_error_names(lambda: run(good, [str(tmp_path / "x.tif"), good[1]]), "good_b.tif")
    folder = os.path.dirname(good[0])
    assert_error_names(lambda: run(good, os.path.join(folder, "$.tif")), "good_a.tif")
    # through another spelling of the same path
    spelled = os.path.join(folder, "..", "in", "good_a.tif")
    assert_error_names(lambda: run(good, [spelled, str(tmp_path / "y.tif")]), "good_a.tif")


def test_malformed_json(good, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"good_a": {"adjustments": ')
    assert_error_names(lambda: run(good, tmp_path / "out", load_adjustments=str(broken)),
                       "broken.json")
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def good_document(bands=1):
    return H.stats_document({
        "good_a": {"whole": (2000.0, 300.0, 400), "overlaps": {"good_b": (2100.0, 310.0, 200)}},
        "good_b": {"whole": (2050.0, 320.0, 400), "overlaps": {"good_a": (2080.0, 290.0, 200)}},
    }, bands=bands)


def test_json_with_the_wrong_band_count(good, tmp_path):
    stored = H.write_json(str(tmp_path / "two_band_stats.json"), good_document(bands=2))
    message = assert_error_names(
        lambda: run(good, tmp_path / "out", load_adjustments=stored), "two_band_stats.json")
    assert "band" in message


def test_json_with_a_missing_reverse_overlap(good, tmp_path):
    document = good_document()
    del document["good_b"]["overlap_stats"]["good_a"]
    stored = H.write_json(str(tmp_path / "one_way.json"), document)
    message = assert_error_names(
        lambda: run(good, tmp_path / "out", load_adjustments=stored), "one_way.json")
    assert "reverse" in message


@pytest.mark.parametrize("damage", ["string-mean", "no-whole-stats", "not-object", "list",
                                    "asymmetric-size", "nan-std"])
def test_json_with_bad_values(good, tmp_path, damage):
    document = good_document()
    if damage == "string-mean":
        document["good_a"]["whole_stats"]["band_0"]["mean"] = "a lot"
    elif damage == "no-whole-stats":
        del document["good_b"]["whole_stats"]
    elif damage == "not-object":
        document["good_b"] = 3
    elif damage == "asymmetric-size":
        document["good_b"]["overlap_stats"]["good_a"]["band_0"]["size"] = 199
    elif damage == "nan-std":
        document["good_b"]["whole_stats"]["band_0"]["std"] = float("nan")
    else:
        document = [document]
    stored = H.write_json(str(tmp_path / "damaged.json"), document)
    assert_error_names(lambda: run(good, tmp_path / "out", load_adjustments=stored),
                       "damaged.json")


def test_missing_json_file(good, tmp_path):
    assert_error_names(
        lambda: run(good, tmp_path / "out", load_adjustments=str(tmp_path / "nope.json")),
        "nope.json")


@pytest.mark.parametrize("parameter, value", [
    ("image_parallel_workers", ("thread", 0)),
    ("image_parallel_workers", ("gpu", 2)),
    ("window_parallel_workers", ("thread", True)),
    ("window_parallel_workers", 4),
    ("calculation_dtype", "int16"),
    ("output_dtype", "complex64"),
    ("custom_nodata_value", "zero"),
])
def test_bad_parameters(good, tmp_path, parameter, value):
    assert_error_names(lambda: run(good, tmp_path / "out", **{parameter: value}), parameter)
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


@pytest.mark.parametrize("window_size", [0, -8, True, False, (0, 16), (16, -1), (16,),
                                         "block", 2.5])
def test_bad_window_size(good, tmp_path, window_size):
    assert_error_names(lambda: run(good, tmp_path / "out", window_size=window_size),
                       "window_size")
