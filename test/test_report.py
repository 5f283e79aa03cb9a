"""The optional HTML report (REPORT) of both algorithms: one self-contained file with inline SVG
charts and inline pictures, built from the engine's RunResult and the rasters read at reduced
resolution, that shows the result: the seams before and after, the mosaic before and after, the
histograms and the clipped values."""

import base64
import html.parser
import math
import os
import re
import types
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

ALGORITHMS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


class Page(html.parser.HTMLParser):
    """Collects tags, attributes and the element ids of an HTML page."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.attributes, self.ids = [], [], set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value or ""))
            if name == "id":
                self.ids.add(value)


def svgs(text):
    return re.findall(r"<svg\b.*?</svg>", text, re.S)


def inline_pictures(text):
    """The PNG pictures carried in the page (``<img src="data:image/png;base64,...">``), as
    bytes."""
    return [base64.b64decode(data) for data in
            re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def assert_self_contained(text):
    """No script, no external file (pictures are inline PNGs), every url(#id) defined, every
    SVG well-formed XML."""
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in text
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    for tag, name, value in page.attributes:
        if tag == "img" and name == "src":
            assert value.startswith("data:image/png;base64,"), value[:60]
            continue
        assert name not in ("src", "srcset"), (tag, name, value)
        if name in ("href", "xlink:href"):
            assert value.startswith("#"), (tag, name, value)
        if name.startswith("on"):
            raise AssertionError("event handler in the report: {}".format(name))
    assert "@import" not in text and "url(http" not in text
    for reference in re.findall(r"url\(#([^)]+)\)", text):
        assert reference in page.ids, reference
    for svg in svgs(text):
        ElementTree.fromstring(svg)  # raises on malformed SVG
    return page


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# ---------------------------------------------------------------------------------------------
# The parameter and the output
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_report_parameter_is_an_optional_html_destination(radiomatch_provider, alg_id):
    from qgis.core import (QgsApplication, QgsProcessingOutputHtml,
                           QgsProcessingParameterFileDestination)

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    definition = alg.parameterDefinition("REPORT")
    assert isinstance(definition, QgsProcessingParameterFileDestination)
    assert definition.flags() & definition.FlagOptional
    assert not definition.createByDefault()
    assert definition.defaultFileExtension() == "html"
    # Processing turns an .html destination into an HTML output (the Results Viewer opens it)
    assert isinstance(alg.outputDefinition("REPORT"), QgsProcessingOutputHtml)
    assert "<code>REPORT</code>" in alg.shortHelpString()


# ---------------------------------------------------------------------------------------------
# Through processing.run
# ---------------------------------------------------------------------------------------------
def test_global_regression_report(radiomatch_provider, processing_context, tiles, tmp_path):
    import processing

    report = str(tmp_path / "reports" / "global.html")
    results = processing.run("radiomatch:globalregression", {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"), "REPORT": report},
        context=processing_context.context, feedback=processing_context.feedback)
    assert results["REPORT"] == report
    assert os.listdir(tmp_path / "reports") == ["global.html"]  # one file, no side files
    text = read(report)
    assert_self_contained(text)
    for name in ("tile0", "tile1", "tile2"):
        assert name in text
    assert "Global regression report" in text
    assert "Footprints and overlap graph" in text
    # what proves the result comes first: the seams (the mosaic-wide figure and the table of
    # every overlap), the mosaic before and after, the histograms, the clipped values
    order = [text.index(title) for title in (
        "Seams before and after", '<table class="headline">', '<table class="seams">',
        "The mosaic before and after", "Histograms before and after", "Clipped values",
        "Footprints and overlap graph")]
    assert order == sorted(order)
    assert text.count('<tr><td class="l">tile') >= 3      # an overlap per row
    thumbnails = inline_pictures(text)
    assert len(thumbnails) == 2 and all(p.startswith(b"\x89PNG") for p in thumbnails)
    assert thumbnails[0] != thumbnails[1]
    pictures = svgs(text)
    assert sum("histograms" in svg[:300] for svg in pictures) == 3
    assert any('aria-label="Footprints and overlap graph"' in svg for svg in pictures)
    assert sum('aria-label="Band 1 seams before and after"' in svg for svg in pictures) == 1
    assert "Report written to {}".format(report) in processing_context.feedback.infos
    # the scales the log reports are those of the table
    scales = [re.search(r"scale (\S+),", info).group(1) for info in processing_context.feedback.infos
              if re.match(r"tile\d, band 1: scale", info)]
    assert len(scales) == 3
    for scale in scales:
        assert "<td>{}</td>".format(scale) in text


def test_local_block_adjustment_report(radiomatch_provider, processing_context, tiles,
                                       tmp_path, monkeypatch):
    import processing

    import radiomatch.core as core

    results_seen = []
    real = core.local_block_adjustment

    def spy(*args, **kwargs):
        results_seen.append(real(*args, **kwargs))
        return results_seen[-1]

    monkeypatch.setattr(core, "local_block_adjustment", spy)
    report = str(tmp_path / "local.html")
    results = processing.run("radiomatch:localblockadjustment", {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"), "BLOCK_RULE": 1,
        "BLOCK_ROWS": 4, "BLOCK_COLS": 5, "REPORT": report},
        context=processing_context.context, feedback=processing_context.feedback)
    assert results["REPORT"] == report
    text = read(report)
    assert_self_contained(text)
    assert "Local block adjustment report" in text
    assert "4 \u00d7 5" in text
    # the engine's seams (the surface model returns them), the mosaic, the histograms
    assert '<table class="seams">' in text and "Computed by the engine" in text
    assert len(inline_pictures(text)) == 2
    assert "Histograms before and after" in text and "Clipped values" in text
    # for the single band: the block maps and the corrections the engine returned, one heat
    # map each
    details = results_seen[0].details
    heat_maps = [svg for svg in svgs(text) if "<title>" in svg and "url(#rm-nodata)" in svg]
    assert len(heat_maps) == (("reference_map" in details) + len(details.get("local_maps", {}))
                              + len(details.get("correction_maps", {})))
    assert len(heat_maps) >= 3
    for k in range(3):
        assert "tile{}_Local.tif".format(k) in text  # the counts table names every output


def test_block_means_report_measures_the_seams_on_the_rasters(radiomatch_provider, tiles,
                                                               tmp_path):
    """The block-means model returns no seams: the report measures them on the inputs and
    outputs read at reduced resolution, says so, and writes nothing next to the inputs."""
    import processing

    before = sorted(os.listdir(os.path.dirname(tiles[0])))
    report = str(tmp_path / "local.html")
    processing.run("radiomatch:localblockadjustment", {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"), "LOCAL_MODEL": 1,
        "REPORT": report})
    text = read(report)
    assert_self_contained(text)
    assert "Measured on the input and output rasters" in text
    headline = text[text.index('<table class="headline">'):]
    before_seam, after_seam = (float(v) for v in re.findall(
        r"<td>([0-9.]+)</td>", headline[:headline.index("</table>")])[:2])
    assert after_seam < 0.5 * before_seam
    assert '<table class="seams">' in text and len(inline_pictures(text)) == 2
    assert sorted(os.listdir(os.path.dirname(tiles[0]))) == before


def test_clipped_values_as_a_share_with_what_to_do(radiomatch_provider, tiles, tmp_path):
    """UInt16 tiles written as Byte: most values clip; the report gives the share of each image
    and says to choose a wider output data type."""
    import processing

    report = str(tmp_path / "global.html")
    processing.run("radiomatch:globalregression", {
        "INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out"), "OUTPUT_DTYPE": 1,
        "REPORT": report})
    text = read(report)
    section = text[text.index("Clipped values"):text.index("Footprints and overlap graph")]
    shares = [float(v) for v in re.findall(r"<td>([0-9.]+) %</td>", section)]
    assert len(shares) == 3 and all(share > 90 for share in shares)
    assert "What to do" in section and "wider" in section


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_no_report_unless_asked(radiomatch_provider, processing_context, tiles, tmp_path,
                                alg_id):
    import processing

    out = tmp_path / "out"
    results = processing.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(out)},
                             context=processing_context.context,
                             feedback=processing_context.feedback)
    assert "REPORT" in results and results["REPORT"] is None
    assert not [name for name in os.listdir(out) if not name.endswith(".tif")]


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_unwritable_report_fails_before_the_run(radiomatch_provider, processing_context, tiles,
                                                tmp_path, alg_id):
    import processing
    from qgis.core import QgsProcessingException

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = tmp_path / "out"
    with pytest.raises(QgsProcessingException) as raised:
        processing.run(alg_id, {"INPUT": tiles, "OUTPUT_FOLDER": str(out),
                                "REPORT": str(blocker / "report.html")},
                       context=processing_context.context, feedback=processing_context.feedback)
    assert "report" in str(raised.value)
    assert not out.exists() or not os.listdir(out)


# ---------------------------------------------------------------------------------------------
# The report writer on engine results
# ---------------------------------------------------------------------------------------------
def engine_result(function, tiles, folder, **kwargs):
    import core

    outputs = [os.path.join(str(folder), os.path.basename(path)) for path in tiles]
    return getattr(core, function)(tiles, outputs, **kwargs), outputs


def test_global_report_numbers_come_from_the_engine(radiomatch_provider, rm, tmp_path):
    """Scale, offset and statistics before are the engine's; after = a * before + b, |a| * std."""
    from radiomatch.algorithms import global_regression_report as page
    from radiomatch.algorithms import report
    from radiomatch.algorithms.report_sections import removed_share

    tiles = rm.write_tiles(tmp_path / "in", gains=((1.0, 0.0), (1.3, 150.0), (0.8, 300.0)))
    result, _outputs = engine_result("global_regression", tiles, tmp_path / "out")
    details = result.details
    names = [os.path.splitext(os.path.basename(p))[0] for p in tiles]
    text = page.global_regression_html(result, names, [], [])
    for name in names:
        scale = details["adjustments"][name]["scale"][0]
        offset = details["adjustments"][name]["offset"][0]
        mean = details["whole_stats"][name]["mean"][0]
        std = details["whole_stats"][name]["std"][0]
        after = page.after_statistics(details["whole_stats"][name], [scale], [offset])
        assert after["mean"][0] == pytest.approx(scale * mean + offset)
        assert after["std"][0] == pytest.approx(abs(scale) * std)
        for value in (scale, offset, mean, std, after["mean"][0], after["std"][0]):
            assert "<td>{}</td>".format(report.num(value)) in text
    # the balanced means are closer to each other than before
    before = [details["whole_stats"][n]["mean"][0] for n in names]
    after = [page.after_statistics(details["whole_stats"][n],
                                     details["adjustments"][n]["scale"],
                                     details["adjustments"][n]["offset"])["mean"][0]
             for n in names]
    assert max(after) - min(after) < 0.5 * (max(before) - min(before))
    # every overlapping pair is drawn as a line of the overlap graph
    graph = [svg for svg in svgs(text) if "Footprints and overlap graph" in svg][0]
    assert graph.count("<line") == len(details["overlaps"]) == 3
    assert "identity" not in text and "separate group" not in text
    # per pair the seam before / after and the robust fit's rejected share, per band
    seams = {(first, second): (before, after)
             for first, second, before, after, _ in details["seams"]}
    for first, second, shares in details["overlap_rejected"]:
        shown = ", ".join("{:.1f} %".format(100 * share) for share in shares)
        before, after = seams[(first, second)]
        assert abs(before[0]) > 50 and abs(after[0]) < 0.01
        assert '<td class="l">{}</td><td class="l">{}</td><td>{}</td><td>{} / {}</td><td>{}</td>'.format(
            first, second, report.count(
                next(p for a, b, p in details["overlaps"] if (a, b) == (first, second))),
            report.num(before[0]), report.num(after[0]), shown) in text
    assert len(details["overlap_rejected"]) == 3
    # the headline: the mosaic-wide seam before and after, and how much of it was removed
    headline = text[text.index('<table class="headline">'):]
    headline = headline[:headline.index("</table>")]
    assert report.num(details["seam"]["before"][0]) in headline
    assert report.num(details["seam"]["after"][0]) in headline
    assert removed_share(details["seam"]["before"][0], details["seam"]["after"][0]) in headline
    assert "100.0 %" in headline


def test_global_report_flags_identity_and_separate_groups(radiomatch_provider, rm, tmp_path):
    """A tile far from the others is its own group and stays at identity: both are flagged."""
    from radiomatch.algorithms import report
    from radiomatch.algorithms.global_regression_report import global_regression_html

    tiles = rm.write_tiles(tmp_path / "in", offsets=((0, 0), (32, 0), (16, 32)))
    far = rm.write_tiles(tmp_path / "far", names=["far"], offsets=((0, 0),),
                         gains=((1.0, 0.0),))[0]
    # move the far tile 100 km east: no overlap with the others
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(far, "r+") as dataset:
        dataset.transform = from_origin(rm.ORIGIN_X + 100000, rm.ORIGIN_Y, rm.PIXEL, rm.PIXEL)
    result, _outputs = engine_result("global_regression", tiles + [far], tmp_path / "out")
    names = ["tile0", "tile1", "tile2", "far"]
    assert len(set(result.details["groups"])) == 2
    text = global_regression_html(result, names, [], [])
    assert_self_contained(text)
    assert "far: left at identity (scale 1, offset 0)." in text
    assert "The images form 2 separate groups" in text
    assert 'stroke="{}"'.format(report.FLAG_COLOUR) in text
    assert text.count('<tr class="flag">') == 1  # the far tile's single band row


def test_global_report_with_negative_scales(radiomatch_provider):
    """A negative scale inverts an image: its mean after is a * mean + b and its standard
    deviation |a| * std, never negative; it is not flagged as left unchanged."""
    from radiomatch.algorithms.global_regression_report import global_regression_html
    from radiomatch.algorithms.report import num

    result = types.SimpleNamespace(
        details={"adjustments": {"a": {"scale": [-0.5, 2.0], "offset": [300.0, -7.0]}},
                 "whole_stats": {"a": {"mean": [100.0, 20.0], "std": [20.0, 3.0]}}},
        warnings=[])
    text = global_regression_html(result, ["a"], ["/x/a.tif"], [])
    assert_self_contained(text)
    row = text[text.index('<td class="l">a</td>', text.index("Statistics and corrections")):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells == ["1", "&ndash;", num(-0.5), num(300.0), num(100.0), num(250.0), num(20.0),
                     num(10.0)]
    assert "identity" not in text


@pytest.mark.parametrize("kind, title, neutral", [
    ("gamma", "Gamma per block", 1.0), ("gain", "Gain per block", 1.0),
    ("offset", "Offset per block", 0.0)])
def test_local_report_draws_the_engines_corrections_on_a_scale_per_kind(radiomatch_provider,
                                                                         kind, title, neutral):
    """The corrections shown are the engine's correction_maps, as they are (never recomputed),
    on a diverging scale centred on the kind's neutral value; without a reference map (the
    surface model) only the images' maps are drawn."""
    from radiomatch.algorithms import report
    from radiomatch.algorithms.local_block_adjustment_report import local_block_adjustment_html

    values = np.array([[[neutral + 0.25], [np.nan]], [[neutral - 0.125], [neutral + 0.0625]]])
    details = {
        "grid": (2, 3), "canvas": (0.0, 0.0, 30.0, 20.0), "correction_kind": kind,
        "local_model": "surface", "footprints": {"a": [10.0, 0.0, 30.0, 20.0]},
        "correction_maps": {"a": {"row_off": 0, "col_off": 1, "values": values}},
        "unchanged_pixels": {"/x/a.tif": 0}}
    result = types.SimpleNamespace(details=details, warnings=[], clipped_pixels={},
                                   nudged_pixels={})
    text = local_block_adjustment_html(result, ["a"], ["/x/a.tif"], [])
    assert_self_contained(text)
    assert title in text and "Block means" not in text and "Gamma shift" not in text
    assert "smooth surfaces fitted to the overlaps" in text
    heat_map = [svg for svg in svgs(text) if "url(#rm-nodata)" in svg]
    assert len(heat_map) == 1
    shown = [float(v) for v in re.findall(r"<title>([^<]*)</title>", heat_map[0])]
    assert shown == [neutral + 0.25, neutral - 0.125, neutral + 0.0625]
    # the scale reaches 98 % of the corrections' distances from the neutral value
    spread = report.robust_range([0.25, 0.125, 0.0625], 0.0, 98.0)[1]
    assert 0.0625 < spread < 0.25
    bar = [svg for svg in svgs(text) if "rm-diverging" in svg and "<rect" in svg][-1]
    assert ">\u2264 {:.5g}<".format(neutral - spread) in bar
    assert ">\u2265 {:.5g}<".format(neutral + spread) in bar


def test_heat_map_scale_ignores_a_few_extreme_blocks(radiomatch_provider):
    """One block far from the others (a cloud's gain of 5) takes the end colour instead of
    flattening every other block into the neutral colour."""
    from radiomatch.algorithms import report
    from radiomatch.algorithms.local_block_adjustment_report import local_block_adjustment_html

    values = np.full((10, 10, 1), 1.0)
    values[:, :, 0] += np.linspace(-0.02, 0.02, 100).reshape(10, 10)
    values[0, 0, 0] = 5.0
    details = {"grid": (10, 10), "correction_kind": "gain", "local_model": "surface",
               "correction_maps": {"a": {"row_off": 0, "col_off": 0, "values": values}}}
    text = local_block_adjustment_html(types.SimpleNamespace(details=details, warnings=[]),
                                       ["a"], ["/x/a.tif"], [])
    bar = [svg for svg in svgs(text) if "rm-diverging" in svg and "<rect" in svg][-1]
    high = float(re.search(r">\u2265 ([0-9.]+)<", bar).group(1))
    assert 1.019 < high < 1.03
    assert report.robust_range(list(range(100))) == pytest.approx((1.98, 97.02))
    assert report.robust_range([]) == (None, None)


def test_local_report_of_the_block_means_model(radiomatch_provider):
    """The reference's model: the reference map, the image's block means and its gammas."""
    from radiomatch.algorithms.local_block_adjustment_report import local_block_adjustment_html

    reference = np.array([[[10.0], [20.0]], [[30.0], [np.nan]]])
    entry = {"row_off": 0, "col_off": 0, "values": reference + 1.0}
    details = {"grid": (2, 2), "reference_map": reference, "local_maps": {"a": entry},
               "correction_maps": {"a": {"row_off": 0, "col_off": 0,
                                         "values": np.full((2, 2, 1), 0.98)}},
               "correction_kind": "gamma", "local_model": "block_means", "shift": 0.0}
    text = local_block_adjustment_html(types.SimpleNamespace(details=details, warnings=[]),
                                       ["a"], ["/x/a.tif"], [])
    assert_self_contained(text)
    assert "Block means: reference and local maps" in text and "Gamma per block" in text
    assert "block means against their average" in text and "Gamma shift" in text
    assert len([svg for svg in svgs(text) if "url(#rm-nodata)" in svg]) == 3


def test_local_report_accepts_whole_and_partial_maps(radiomatch_provider, rm, tmp_path):
    """Block maps as arrays (NaN), as nested lists (None) and as an image's sub-grid."""
    from radiomatch.algorithms import local_block_adjustment_report as page
    from radiomatch.algorithms import report

    tiles = rm.write_tiles(tmp_path / "in")
    result, outputs = engine_result("local_block_adjustment", tiles, tmp_path / "out",
                                    number_of_blocks=(3, 3), local_model="block_means")
    names = ["tile0", "tile1", "tile2"]
    first = page.local_block_adjustment_html(result, names, outputs, [])
    assert_self_contained(first)

    rows, cols = result.details["grid"]
    as_lists = types.SimpleNamespace(**vars(result))
    as_lists.details = dict(result.details)
    as_lists.details["reference_map"] = [
        [[None if math.isnan(v) else float(v) for v in cell] for cell in row]
        for row in np.asarray(result.details["reference_map"]).tolist()]
    as_lists.details["local_maps"] = {
        name: [[[None if v is None or math.isnan(v) else float(v) for v in (cell or [None])]
                for cell in row] for row in page.full_map(entry, rows, cols)]
        for name, entry in result.details["local_maps"].items()}
    second = page.local_block_adjustment_html(as_lists, names, outputs, [])
    strip = re.compile(r"report written [0-9: -]+")
    assert strip.sub("", first) == strip.sub("", second)

    # unchanged and clipped pixels are reported per output, as the engine counted them
    for path in outputs:
        assert "<td>{}</td>".format(report.count(result.clipped_pixels[path])) in first
    assert "Clipped values" in first


def test_report_survives_missing_details(radiomatch_provider):
    """An engine without the report keys still gives a (smaller) report, not a crash."""
    from radiomatch.algorithms.global_regression_report import global_regression_html
    from radiomatch.algorithms.local_block_adjustment_report import local_block_adjustment_html

    bare = types.SimpleNamespace(details={"adjustments": {"a": {"scale": [1.5], "offset": [2]}}},
                                 warnings=["something odd"], clipped_pixels={},
                                 nudged_pixels={})
    text = global_regression_html(bare, ["a"], ["/x/a.tif"], [("Output folder", "/x")])
    assert_self_contained(text)
    assert "something odd" in text and "1.5" in text
    text = local_block_adjustment_html(
        types.SimpleNamespace(details={}, warnings=[]), ["a"], ["/x/a.tif"], [])
    assert_self_contained(text)
    assert "no thumbnails" in text


def test_report_escapes_names(radiomatch_provider):
    from radiomatch.algorithms.global_regression_report import global_regression_html

    result = types.SimpleNamespace(
        details={"adjustments": {"<b>&x": {"scale": [1.0], "offset": [1.0]}},
                 "whole_stats": {"<b>&x": {"mean": [3.0], "std": [1.0]}},
                 "footprints": {"<b>&x": [0, 0, 10, 10]}, "overlaps": [], "groups": [0]},
        warnings=["<script>alert(1)</script>"])
    text = global_regression_html(result, ["<b>&x"], ["/x/<b>&x.tif"], [])
    assert_self_contained(text)
    assert "<b>&x" not in text and "&lt;b&gt;&amp;x" in text
    assert "<script>" not in text
