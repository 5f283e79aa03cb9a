"""core/run.py: what a run returns. The engine's functions return the list of output paths,
as the reference's do, so that scripts written for spectralmatch run unchanged; the list also
carries the warnings, counts and details."""
import os
import pickle

import numpy as np
import pytest

import core_helpers as H
from core import RunResult, global_regression, local_block_adjustment


@pytest.fixture
def two_images(tmp_path):
    """Two overlapping single-band uint16 images, B brighter than A; their output paths."""
    data = H.scene(24, 40, seed=3)
    folder, out = tmp_path / "in", tmp_path / "out"
    paths = [H.write_tile(str(folder / "A.tif"), data, 0, 0, 24, 24, dtype="uint16"),
             H.write_tile(str(folder / "B.tif"), data, 0, 16, 24, 24, gain=1.2, offset=40,
                          dtype="uint16")]
    return paths, [str(out / "A_Out.tif"), str(out / "B_Out.tif")]


def test_global_regression_called_as_the_reference_returns_the_output_paths(two_images,
                                                                               tmp_path):
    paths, outputs = two_images
    result = global_regression(input_images=paths, output_images=outputs,
                               calculation_dtype="float64", output_dtype="uint16",
                               custom_nodata_value=0, window_size=16, save_as_cog=True,
                               specify_model_images=("include", ["A"]),
                               save_adjustments=str(tmp_path / "adjustments.json"))
    assert result == outputs
    assert all(os.path.exists(path) for path in result)
    assert list(result) == outputs and len(result) == 2 and result[1] == outputs[1]
    first, second = result
    assert (first, second) == tuple(outputs)
    assert set(result.details["adjustments"]) == {"A", "B"}
    assert isinstance(result.warnings, list)


def test_local_block_adjustment_called_as_the_reference_returns_the_output_paths(two_images,
                                                                                   tmp_path):
    paths, outputs = two_images
    maps = tmp_path / "maps"
    result = local_block_adjustment(
        input_images=paths, output_images=outputs, calculation_dtype="float64",
        output_dtype="uint16", number_of_blocks=(2, 2), alpha=0.75,
        correction_method="linear",
        save_block_maps=(str(maps / "ref.tif"), str(maps / "$_block.tif")))
    assert result == outputs
    assert all(os.path.exists(path) for path in result)
    reloaded = [path.replace("_Out", "_FromLoad") for path in outputs]
    again = local_block_adjustment(
        input_images=paths, output_images=reloaded, calculation_dtype="float64",
        output_dtype="uint16", correction_method="linear", alpha=0.75,
        load_block_maps=(str(maps / "ref.tif"), [str(maps / "A_block.tif"),
                                                  str(maps / "B_block.tif")]))
    assert again == reloaded
    for first, second in zip(result, again):
        assert np.array_equal(H.read(first), H.read(second))


def test_folder_and_template_outputs_iterate_as_the_paths_written(two_images, tmp_path):
    paths, _ = two_images
    by_folder = global_regression(paths, str(tmp_path / "folder"))
    assert by_folder == [str(tmp_path / "folder" / "A_Global.tif"),
                         str(tmp_path / "folder" / "B_Global.tif")]
    by_template = local_block_adjustment(paths, str(tmp_path / "t" / "$_L.tif"),
                                         number_of_blocks=4)
    assert [os.path.basename(path) for path in by_template] == ["A_L.tif", "B_L.tif"]


def test_the_result_keeps_its_attributes_through_copies_and_pickling(two_images):
    result = RunResult(["a.tif", "b.tif"], ["careful"], {"a.tif": 2}, {}, {"grid": (2, 3)})
    assert result == ["a.tif", "b.tif"] and result.output_images == ["a.tif", "b.tif"]
    assert type(result.output_images) is list
    copy = pickle.loads(pickle.dumps(result))
    assert copy == result and copy.warnings == ["careful"]
    assert copy.clipped_pixels == {"a.tif": 2} and copy.details == {"grid": (2, 3)}
    assert "a.tif" in repr(result) and "careful" in repr(result)
    empty = RunResult([], [])
    assert empty == [] and empty.details == {} and empty.clipped_pixels == {}
