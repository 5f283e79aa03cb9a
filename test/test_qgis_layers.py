"""What the user sees after a run (algorithms/layers.py, algorithms/mosaic.py): the corrected
rasters and their mosaic opened in one layer group with one renderer, only when asked, and the
mosaic itself.

Runs go through processing.run with MOSAIC given as the dialog gives it ("Open output file
after running algorithm": a QgsProcessingOutputLayerDefinition carrying the project), then
through QGIS's own post-processing (``handleAlgorithmResults``), which loads the layers the way
the dialog, Batch mode and models do."""

import glob
import os
import re
import shutil

import numpy as np
import pytest

GR = "radiomatch:globalregression"
LBA = "radiomatch:localblockadjustment"
DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "data")


@pytest.fixture
def demo_tiles(tmp_path):
    """Copies of the four demo tiles (RGB, Byte, nodata 0), in input order."""
    folder = tmp_path / "demo"
    folder.mkdir()
    for path in sorted(glob.glob(os.path.join(DEMO, "tile_*.tif"))):
        shutil.copy(path, folder)
    return sorted(str(path) for path in folder.glob("tile_*.tif"))


@pytest.fixture
def project(qgis_processing):
    from qgis.core import QgsProject

    project = QgsProject()
    yield project
    project.clear()


def run_and_open(alg_id, parameters, run, project=None):
    """processing.run, then QGIS's post-processing as the dialog does it; the results."""
    import processing
    from qgis.core import QgsApplication

    from processing.gui.Postprocessing import handleAlgorithmResults

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    results = processing.run(alg, parameters, context=run.context, feedback=run.feedback)
    assert handleAlgorithmResults(alg, run.context, run.feedback)
    return results


def opened(mosaic, project):
    from qgis.core import QgsProcessingOutputLayerDefinition

    return QgsProcessingOutputLayerDefinition(mosaic, project)


def tree(project):
    """[(group name, [(layer, visible), ...])] of the project's top-level groups."""
    from qgis.core import QgsLayerTree

    groups = []
    for node in project.layerTreeRoot().children():
        assert QgsLayerTree.isGroup(node), "a layer outside the run's group: " + node.name()
        groups.append((node.name(), [(child.layer(), child.itemVisibilityChecked())
                                     for child in node.children()]))
    return groups


def renderer_settings(layer):
    """(renderer type, bands, [(min, max) per band shown])."""
    renderer = layer.renderer()
    if hasattr(renderer, "redBand"):
        bands = (renderer.redBand(), renderer.greenBand(), renderer.blueBand())
        enhancements = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                        renderer.blueContrastEnhancement())
    else:
        bands = (renderer.grayBand(),)
        enhancements = (renderer.contrastEnhancement(),)
    return (type(renderer).__name__, bands,
            tuple((e.minimumValue(), e.maximumValue()) for e in enhancements))


def pooled_percentiles(paths, band):
    """2 and 98 % of the valid pixels of ``band`` of all rasters together (full resolution)."""
    import rasterio

    values = []
    for path in paths:
        with rasterio.open(path) as dataset:
            data = dataset.read(band)
            valid = dataset.read_masks(band) > 0
        values.append(data[valid])
    return tuple(np.percentile(np.concatenate(values), (2, 98)))


def test_outputs_share_one_renderer_and_stretch_in_one_group(radiomatch_provider,
                                                             processing_context, project,
                                                             demo_tiles, tmp_path):
    out, mosaic = tmp_path / "out", str(tmp_path / "out" / "mosaic.vrt")
    results = run_and_open(GR, {"INPUT": demo_tiles, "OUTPUT_FOLDER": str(out),
                                "MOSAIC": opened(mosaic, project)}, processing_context)
    written = results["OUTPUT_LAYERS"]
    assert results["MOSAIC"] == mosaic

    (name, layers), = tree(project)
    assert re.fullmatch(r"Global regression \(\d\d:\d\d:\d\d\)", name)
    # the mosaic on top, shown; the corrected rasters under it, the last input on top as in
    # the mosaic, hidden (the mosaic shows the same pixels)
    assert [layer.source() for layer, _ in layers] == [mosaic] + written[::-1]
    assert [visible for _, visible in layers] == [True] + [False] * len(written)
    assert layers[0][0].name() == "Mosaic"
    assert [layer.name() for layer, _ in layers[1:]] == [
        os.path.splitext(os.path.basename(path))[0] for path in written[::-1]]

    # one renderer: bands 1, 2, 3 as red, green, blue, each stretched over 2-98 % of the
    # pixels of all outputs together
    assert len({renderer_settings(layer) for layer, _ in layers}) == 1
    kind, bands, limits = renderer_settings(layers[0][0])
    assert kind == "QgsMultiBandColorRenderer" and bands == (1, 2, 3)
    for band, (low, high) in zip(bands, limits):
        assert (low, high) == pytest.approx(pooled_percentiles(written, band))
    # QGIS's own per-layer stretch would differ from tile to tile: that is what made seams
    assert len({renderer_settings_default(path) for path in written}) > 1


def renderer_settings_default(path):
    """The red band's stretch QGIS gives a raster on its own (its default renderer)."""
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(path, "alone")
    enhancement = layer.renderer().redContrastEnhancement()
    return enhancement.minimumValue(), enhancement.maximumValue()


def test_band_mapping_of_the_first_input_layer(radiomatch_provider, processing_context, project,
                                               demo_tiles, tmp_path):
    """Inputs given as layers of the project: the outputs show the bands the first input's
    layer shows (here false colours, 3-2-1)."""
    from qgis.core import QgsMultiBandColorRenderer, QgsRasterLayer

    processing_context.context.setProject(project)
    layers = [QgsRasterLayer(path, os.path.basename(path)) for path in demo_tiles]
    for layer in layers:
        project.addMapLayer(layer, False)
    first = layers[0]
    first.setRenderer(QgsMultiBandColorRenderer(first.dataProvider(), 3, 2, 1))
    run_and_open(GR, {"INPUT": layers, "OUTPUT_FOLDER": str(tmp_path / "out"),
                      "MOSAIC": opened(str(tmp_path / "mosaic.vrt"), project)},
                 processing_context)
    (_name, opened_layers), = tree(project)
    assert {renderer_settings(layer)[1] for layer, _ in opened_layers} == {(3, 2, 1)}


def test_single_band_outputs_in_grey(radiomatch_provider, processing_context, project, tiles,
                                     tmp_path):
    results = run_and_open(LBA, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"),
                                 "MOSAIC": opened(str(tmp_path / "m.vrt"), project)},
                           processing_context)
    (name, layers), = tree(project)
    assert name.startswith("Local block adjustment (")
    kinds = {renderer_settings(layer) for layer, _ in layers}
    assert len(kinds) == 1
    kind, bands, ((low, high),) = kinds.pop()
    assert kind == "QgsSingleBandGrayRenderer" and bands == (1,)
    assert (low, high) == pytest.approx(pooled_percentiles(results["OUTPUT_LAYERS"], 1))


@pytest.mark.parametrize("mosaic", ["unticked", "skipped"])
def test_nothing_opened_unless_asked(radiomatch_provider, processing_context, project, tiles,
                                     tmp_path, mosaic):
    """"Open output file after running algorithm" unticked (the value carries no project) or
    no mosaic at all (processing.run with a plain path, qgis_process): nothing is opened."""
    parameters = {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out")}
    if mosaic == "unticked":
        parameters["MOSAIC"] = opened(str(tmp_path / "m.vrt"), None)
    processing_context.context.setProject(project)
    results = run_and_open(GR, parameters, processing_context)
    assert processing_context.context.layersToLoadOnCompletion() == {}
    assert project.mapLayers() == {}
    assert (results["MOSAIC"] is None) == (mosaic == "skipped")


def test_block_maps_open_in_the_group_with_their_own_style(radiomatch_provider,
                                                            processing_context, project, tiles,
                                                            tmp_path):
    maps = tmp_path / "maps"
    results = run_and_open(LBA, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"),
                                 "SAVE_BLOCK_MAPS": str(maps), "LOAD_BLOCK_MAPS_TO_CANVAS": True,
                                 "MOSAIC": opened(str(tmp_path / "m.vrt"), project)},
                           processing_context)
    (_name, layers), = tree(project)
    sources = [layer.source() for layer, _ in layers]
    assert sources == ([str(tmp_path / "m.vrt")] + results["OUTPUT_LAYERS"][::-1]
                       + results["BLOCK_MAP_LAYERS"])
    shared = renderer_settings(layers[0][0])
    for layer, visible in layers[-len(results["BLOCK_MAP_LAYERS"]):]:
        assert visible and renderer_settings(layer) != shared


# ---------------------------------------------------------------------------------------------
# The mosaic
# ---------------------------------------------------------------------------------------------
def read_all(path):
    import rasterio

    with rasterio.open(path) as dataset:
        return dataset.read(), dataset.read_masks(), dataset.transform, dataset.nodata, (
            dataset.width, dataset.height), dataset.bounds


def test_mosaic_covers_the_union_with_the_outputs_pixels(radiomatch_provider, demo_tiles,
                                                         tmp_path):
    """The VRT spans the union of the outputs, shows each output's own pixels where it is the
    last valid input, and nodata where no output is valid."""
    import processing

    mosaic = str(tmp_path / "out" / "mosaic.vrt")
    results = processing.run(GR, {"INPUT": demo_tiles, "OUTPUT_FOLDER": str(tmp_path / "out"),
                                  "MOSAIC": mosaic})
    assert results["MOSAIC"] == mosaic and os.path.isfile(mosaic)
    with open(mosaic, encoding="utf-8") as handle:
        text = handle.read()
    # sources in input order, relative to the VRT (the folder can move as a whole)
    names = re.findall(r'<SourceFilename relativeToVRT="1">([^<]+)</SourceFilename>', text)
    order = list(dict.fromkeys(names))
    assert order == [os.path.basename(path) for path in results["OUTPUT_LAYERS"]]

    data, masks, transform, nodata, (width, height), bounds = read_all(mosaic)
    outputs = [read_all(path) for path in results["OUTPUT_LAYERS"]]
    assert nodata == outputs[0][3] == 0
    assert bounds.left == min(o[5].left for o in outputs)
    assert bounds.right == max(o[5].right for o in outputs)
    assert bounds.bottom == min(o[5].bottom for o in outputs)
    assert bounds.top == max(o[5].top for o in outputs)
    expected = np.zeros_like(data)
    covered = np.zeros(data.shape[1:], dtype=bool)
    for values, valid, out_transform, _nodata, (w, h), _bounds in outputs:
        col = int(round((out_transform.c - transform.c) / transform.a))
        row = int(round((out_transform.f - transform.f) / transform.e))
        window = (slice(row, row + h), slice(col, col + w))
        here = valid[0] > 0
        expected[(slice(None),) + window][:, here] = values[:, here]
        covered[window] |= here
    assert np.array_equal(data, expected)
    assert np.array_equal(masks[0] > 0, covered)


def test_mosaic_must_be_a_vrt(radiomatch_provider, tiles, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException) as raised:
        processing.run(GR, {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"),
                            "MOSAIC": str(tmp_path / "mosaic.tif")})
    assert "MOSAIC" in str(raised.value) and ".vrt" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_mosaic_default_extension_is_vrt(radiomatch_provider):
    """The dialog's temporary mosaic and its file chooser are VRTs (the provider's raster
    format)."""
    from qgis.core import QgsApplication

    for alg_id in (GR, LBA):
        definition = QgsApplication.processingRegistry().algorithmById(alg_id) \
            .parameterDefinition("MOSAIC")
        assert definition.defaultFileExtension() == "vrt"
        assert definition.generateTemporaryDestination().endswith(".vrt")
        assert definition.createByDefault()
        assert definition.flags() & definition.FlagOptional
