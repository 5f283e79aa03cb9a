"""algorithms/engine.py: the engine's progress callback on a QgsProcessingFeedback."""


def test_progress_never_moves_backwards_and_text_changes_once(radiomatch_plugin):
    from qgis.core import QgsProcessingFeedback

    from radiomatch.algorithms.engine import ProgressAdapter

    class Feedback(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.values, self.texts = [], []

        def setProgress(self, value):  # noqa: N802
            self.values.append(value)
            super().setProgress(value)

        def setProgressText(self, text):  # noqa: N802
            self.texts.append(text)

    feedback = Feedback()
    progress = ProgressAdapter(feedback)
    for fraction, message in ((0.1, "Reading"), (0.5, "Reading"), (0.3, "Solving"),
                              (0.5, None), (0.75, "Solving"), (1.5, "Writing"), (-1.0, None),
                              (None, "Done")):
        assert progress(fraction, message) is False
    assert feedback.values == [10.0, 50.0, 75.0, 100.0]
    assert feedback.texts == ["Reading", "Solving", "Writing", "Done"]
    feedback.cancel()
    assert progress(0.9, "Writing") is True       # the callback asks the engine to stop
    assert feedback.values[-1] == 100.0
