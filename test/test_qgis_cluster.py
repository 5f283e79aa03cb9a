"""Issue 17 in QGIS: DASK_SCHEDULER (advanced, optional) hands its address to the engine, and a
run on the test cluster (conftest.py ``dask_cluster``) from Processing writes the same files
as the run on this machine, with the engine uploaded as radiomatch.core (the plugin package
itself, which imports qgis, never reaches the workers)."""
import os
import sys

import pytest

ALGORITHMS = {"radiomatch:globalregression": "global_regression",
              "radiomatch:localblockadjustment": "local_block_adjustment"}


@pytest.mark.parametrize("alg_id", ALGORITHMS)
def test_dask_scheduler_is_an_optional_advanced_string(radiomatch_provider, alg_id):
    from qgis.core import (QgsApplication, QgsProcessingParameterDefinition,
                           QgsProcessingParameterString)

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    definition = alg.parameterDefinition("DASK_SCHEDULER")
    assert isinstance(definition, QgsProcessingParameterString)
    assert definition.flags() & QgsProcessingParameterDefinition.FlagOptional
    assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced
    assert definition.defaultValue() is None


@pytest.mark.parametrize("alg_id", ALGORITHMS)
@pytest.mark.parametrize("value, address", [(None, None), ("", None), ("   ", None),
                                            (" tcp://10.0.0.5:8786 ", "tcp://10.0.0.5:8786")])
def test_the_scheduler_address_goes_to_the_engine(radiomatch_provider, processing_context,
                                                  tiles, tmp_path, monkeypatch, alg_id, value,
                                                  address):
    import processing

    import radiomatch.core as core

    seen = {}
    real = getattr(core, ALGORITHMS[alg_id])

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **dict(kwargs, dask_scheduler=None))

    monkeypatch.setattr(core, ALGORITHMS[alg_id], spy)
    parameters = {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / "out")}
    if value is not None:
        parameters["DASK_SCHEDULER"] = value
    processing.run(alg_id, parameters, context=processing_context.context,
                   feedback=processing_context.feedback)
    assert seen["dask_scheduler"] == address


def test_a_processing_run_on_the_cluster_writes_the_same_files(
        radiomatch_provider, processing_contexts, tiles, tmp_path, dask_cluster):
    import processing

    outputs = {}
    for label, address in (("here", None), ("cluster", dask_cluster.address)):
        dask_cluster.ready()
        parameters = {"INPUT": tiles, "OUTPUT_FOLDER": str(tmp_path / label),
                      "WINDOW_SIZE": 32}
        if address:
            parameters["DASK_SCHEDULER"] = address
        run = processing_contexts()
        processing.run("radiomatch:localblockadjustment", parameters, context=run.context,
                       feedback=run.feedback)
        folder = str(tmp_path / label)
        outputs[label] = {name: open(os.path.join(folder, name), "rb").read()
                          for name in sorted(os.listdir(folder))}
    assert len(outputs["here"]) == len(tiles)
    assert outputs["cluster"] == outputs["here"]
    loaded = dask_cluster.client.run(lambda: sys.modules["radiomatch.core.run"].__file__)
    assert all(".zip" in path and "radiomatch-" in path for path in loaded.values())
    assert not any(dask_cluster.client.run(lambda: "radiomatch.algorithms" in sys.modules
                                           or "qgis" in sys.modules).values())
