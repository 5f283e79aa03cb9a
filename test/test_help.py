"""Help: every parameter is explained, the help URL lands on the algorithm's README section, and
README's parameter tables are the algorithms' own definitions and help, row for row."""

import os
import re

import pytest

ALGORITHM_IDS = ("radiomatch:globalregression", "radiomatch:localblockadjustment")
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def algorithm(alg_id):
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    assert alg is not None, alg_id
    return alg


def readme_text():
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def github_slug(heading):
    """The anchor GitHub gives a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def readme_section(alg_id):
    """(heading, table rows) of the README section ``### ... (`alg_id`)``."""
    text = readme_text()
    match = re.search(r"^### (.*\(`{}`\))\s*$".format(re.escape(alg_id)), text, re.M)
    assert match, "README has no section for {}".format(alg_id)
    rest = text[match.end():]
    following = re.search(r"^#{1,3} ", rest, re.M)
    section = rest[:following.start()] if following else rest
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return match.group(1), rows


def expected_rows(alg):
    """README rows from the definitions (how the tables were generated; see docs/PROCESSING.md)."""
    from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterEnum

    from radiomatch.algorithms.algorithm import html_to_text

    help_text = alg.parameter_help()
    rows = []
    for definition in alg.parameterDefinitions():
        kind = definition.type()
        if isinstance(definition, QgsProcessingParameterEnum):
            kind = "enum: " + ", ".join("{}={}".format(i, option)
                                        for i, option in enumerate(definition.options()))
        flags = []
        if definition.flags() & QgsProcessingParameterDefinition.FlagOptional:
            flags.append("optional")
        if definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced:
            flags.append("advanced")
        if flags:
            kind += " ({})".format(", ".join(flags))
        default = definition.defaultValue()
        default = "" if default is None else "`{}`".format(default)
        rows.append("| `{}` | {} | {} | {} |".format(
            definition.name(), kind, default, html_to_text(help_text.get(definition.name(), ""))))
    for output in alg.outputDefinitions():
        if alg.parameterDefinition(output.name()) is None:
            rows.append("| `{}` | output: {} | | {} |".format(
                output.name(), output.type(), html_to_text(help_text.get(output.name(), ""))))
    return rows


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_every_parameter_and_output_has_help(radiomatch_provider, alg_id):
    alg = algorithm(alg_id)
    help_text = alg.parameter_help()
    names = [d.name() for d in alg.parameterDefinitions()]
    names += [o.name() for o in alg.outputDefinitions() if alg.parameterDefinition(o.name()) is None]
    for name in names:
        entry = help_text.get(name, "")
        assert entry.strip(), "{} has no help".format(name)
        assert len(entry) > 20 and entry.rstrip().endswith((".", ")")), (name, entry)
    for definition in alg.parameterDefinitions():
        assert definition.description().strip(), definition.name()
    # no help for parameters that do not exist (renamed or removed ones)
    known = set(names) | {o.name() for o in alg.outputDefinitions()}
    assert set(help_text) <= known, set(help_text) - known


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_help_url_is_the_readme_section(radiomatch_provider, alg_id):
    alg = algorithm(alg_id)
    heading, _rows = readme_section(alg_id)
    url = alg.helpUrl()
    assert url == "https://github.com/radiomatch/radiomatch#" + github_slug(heading)
    assert alg.helpUrl() == alg.createInstance().helpUrl()


@pytest.mark.parametrize("alg_id", ALGORITHM_IDS)
def test_readme_parameter_table_is_in_step(radiomatch_provider, alg_id):
    alg = algorithm(alg_id)
    _heading, rows = readme_section(alg_id)
    expected = expected_rows(alg)
    listed = [re.match(r"\| `([^`]+)`", row).group(1) for row in rows]
    wanted = [re.match(r"\| `([^`]+)`", row).group(1) for row in expected]
    assert listed == wanted, "README {} table names differ: missing {}, extra {}".format(
        alg_id, sorted(set(wanted) - set(listed)), sorted(set(listed) - set(wanted)))
    for row, want in zip(rows, expected):
        assert row == want, "README row out of step; expected:\n" + want


def test_github_slug():
    assert github_slug("Global regression (`radiomatch:globalregression`)") == \
        "global-regression-radiomatchglobalregression"
    assert github_slug("Command line: qgis_process") == "command-line-qgis_process"
