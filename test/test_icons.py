"""Icons: the provider and each algorithm have their own SVG icon, which exists, is valid SVG,
renders, and is what the toolbox shows."""

import os
import xml.etree.ElementTree as ElementTree

import pytest

ALGORITHM_IDS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")


def assert_svg_icon(path, icon):
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtSvg import QSvgRenderer

    assert path.endswith(".svg") and os.path.isfile(path), path
    root = ElementTree.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", path
    assert QSvgRenderer(path).isValid(), path
    assert icon is not None and not icon.isNull(), path
    image = icon.pixmap(QSize(32, 32)).toImage()
    assert not image.isNull() and image.width() > 0
    opaque = sum(1 for x in range(image.width()) for y in range(image.height())
                 if image.pixelColor(x, y).alpha() > 0)
    assert opaque > 0.2 * image.width() * image.height(), "{} renders (almost) empty".format(path)


def test_provider_icon(radiomatch_provider, rm):
    path = radiomatch_provider.svgIconPath()
    assert_svg_icon(path, radiomatch_provider.icon())
    assert os.path.samefile(os.path.dirname(path), os.path.join(rm.REPO_ROOT, "resources"))


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_algorithm_icon(radiomatch_provider, alg_id):
    from qgis.core import QgsApplication

    registered = QgsApplication.processingRegistry().algorithmById(alg_id)
    fresh = registered.create()
    for alg in (registered, fresh):  # the toolbox's and a dialog's instance
        assert_svg_icon(alg.svgIconPath(), alg.icon())
    # each algorithm has its own icon, not the provider's
    assert os.path.basename(registered.svgIconPath()) == "{}.svg".format(registered.name())
    assert registered.svgIconPath() != radiomatch_provider.svgIconPath()


def test_icons_are_distinct_files(radiomatch_provider):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    paths = [radiomatch_provider.svgIconPath()] + [
        registry.algorithmById(alg_id).svgIconPath() for alg_id in ALGORITHM_IDS]
    contents = []
    for path in paths:
        with open(path, "rb") as handle:
            contents.append(handle.read())
    assert len(set(contents)) == len(paths)


def test_metadata_icon_is_the_provider_icon(radiomatch_provider, rm):
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    with open(os.path.join(rm.REPO_ROOT, "metadata.txt"), encoding="utf-8") as handle:
        parser.read_file(handle)
    icon = parser.get("general", "icon")
    assert os.path.samefile(os.path.join(rm.REPO_ROOT, icon), radiomatch_provider.svgIconPath())
