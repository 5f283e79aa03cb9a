"""algorithms/parameters.py and the algorithms' own options: the values the Processing layer
hands to the engine are the ones the engine accepts (they are written on both sides of the
wall between algorithms/ and core/, so a rename on one side must fail here)."""
import types

import pytest

import core
from core.global_regression import OVERLAP_STATISTICS, _model_images
from core.masks import load_vector_mask
from core.rasters import image_name as engine_image_name
from core.run import resolve_calculation_dtype
from core.writing import SUPPORTED_DTYPES


def refusal(function, **options):
    """The engine's message for options given with no input image: its option check comes
    first, so an accepted value gives the "no input" message."""
    with pytest.raises(core.RadioMatchError) as raised:
        function([], [], **options)
    return str(raised.value)


def accepted(function, option, value):
    return refusal(function, **{option: value}) == "No input images were given."


def test_global_regression_options_are_the_engines(radiomatch_plugin):
    from radiomatch.algorithms import global_regression as gr

    for option, values in (("overlap_statistics", gr.OVERLAP_STATISTICS_MODES),
                           ("anchoring", gr.ANCHORINGS)):
        assert all(accepted(core.global_regression, option, value) for value in values)
        assert not accepted(core.global_regression, option, values[0] + "_")
    assert gr.OVERLAP_STATISTICS_MODES == OVERLAP_STATISTICS
    for mode in gr.MODEL_IMAGES_MODES:
        warnings = types.SimpleNamespace(warn=lambda message: None)
        chosen = _model_images((mode, ["a"]), ["a", "b"], ["a", "b"], warnings)
        assert chosen.tolist() == ([True, False] if mode == "include" else [False, True])


def test_local_block_adjustment_options_are_the_engines(radiomatch_plugin):
    from radiomatch.algorithms import local_block_adjustment as lba

    for option, values in (("block_statistics", lba.BLOCK_STATISTICS_MODES),
                           ("correction_method", lba.CORRECTION_METHODS),
                           ("local_model", lba.LOCAL_MODELS)):
        assert all(accepted(core.local_block_adjustment, option, value) for value in values)
        assert not accepted(core.local_block_adjustment, option, values[0] + "_")
    assert accepted(core.local_block_adjustment, "number_of_blocks",
                    "coefficient_of_variation")
    template = lba.LOCAL_MAP_TEMPLATE
    assert accepted(core.local_block_adjustment, "save_block_maps",
                    ("/x/" + lba.REFERENCE_MAP_NAME, "/x/" + template))


def test_shared_options_are_the_engines(radiomatch_plugin):
    from radiomatch.algorithms import parameters

    for value in parameters.CALCULATION_DTYPES:
        assert resolve_calculation_dtype(value, [], []) in ("float32", "float64")
    assert parameters.OUTPUT_DTYPES[0] is None          # "same as input"
    assert set(parameters.OUTPUT_DTYPES[1:]) <= set(SUPPORTED_DTYPES)
    for mode in parameters.MASK_MODES:
        with pytest.raises(core.RadioMatchError) as raised:
            load_vector_mask((mode, "/nowhere/mask.geojson"), [], [])
        assert "mode" not in str(raised.value)
    with pytest.raises(core.RadioMatchError, match="mode must be"):
        load_vector_mask(("inside", "/nowhere/mask.geojson"), [], [])


@pytest.mark.parametrize("path", [
    "/d/a.tif", "/d/a.b.tif", "/d/a", "/d/.hidden.tif", "/d/tile 1.TIF", "/d/a.tif.tif",
    "/d.x/a", "relative/b.c.d", "/d/a|b.tif", "/d/\u00e9t\u00e9.tif"])
def test_image_names_are_the_engines(radiomatch_plugin, path):
    """The layer names model images, block maps and outputs by the engine's name(k)."""
    from radiomatch.algorithms.inputs import image_name

    assert image_name(path) == engine_image_name(path)
