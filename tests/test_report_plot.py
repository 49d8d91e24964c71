"""The report draws itself (matplotlib, Agg) and shows as an HTML table in Jupyter."""

import dataclasses
import sys
from io import BytesIO

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import HPMDistiller, MLPStudent

BASE_TITLES = ["Accuracy and fidelity", "Teacher / student ratios"]
CHAIN = [
    {"capacity": 4096, "fidelity": 0.99, "accuracy": 0.95, "time_s": 1.5},
    {"capacity": 512, "fidelity": 0.97, "accuracy": 0.94, "time_s": 0.5},
    {"capacity": 64, "fidelity": 0.93, "accuracy": 0.92, "time_s": 0.2},
]


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def breast_cancer():
    return load_breast_cancer(return_X_y=True)


def _linear_teacher():
    return make_pipeline(StandardScaler(), LogisticRegression())


@pytest.fixture(scope="module")
def linear_report(breast_cancer):
    """One teacher, a linear student: no weights to show, a constant temperature."""
    X, y = breast_cancer
    return HPMDistiller(_linear_teacher(), student="linear",
                        random_state=0).fit(X, y).report_


@pytest.fixture(scope="module")
def multi_teacher_report(breast_cancer):
    """Three teachers fused by the gate, an MLP student on an annealed schedule."""
    X, y = breast_cancer
    teachers = [
        HistGradientBoostingClassifier(max_iter=15, random_state=0),
        RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
        _linear_teacher(),
    ]
    student = MLPStudent(hidden_layer_sizes=(16,), max_epochs=10, random_state=0)
    return HPMDistiller(teachers, student=student, temperature="anneal", cv=2,
                        random_state=0).fit(X, y).report_


def _titles(figure):
    return [ax.get_title() for ax in figure.axes]


def _png(figure):
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _bar_widths(ax):
    return [bar.get_width() for bar in ax.patches]


def test_plot_of_one_teacher_and_a_linear_student_renders_two_titled_panels(
        pyplot, linear_report):
    figure = linear_report.plot()

    png = _png(figure)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert _titles(figure)[:2] == BASE_TITLES
    assert "Mean teacher weights" not in _titles(figure)
    assert "Temperature schedule" not in _titles(figure)


def test_accuracy_panel_bars_are_the_reported_numbers(pyplot, linear_report):
    accuracy_panel = linear_report.plot().axes[0]

    np.testing.assert_allclose(
        _bar_widths(accuracy_panel),
        [linear_report.teacher_accuracy, linear_report.student_accuracy,
         linear_report.fidelity])


@pytest.mark.parametrize("parameter_compression", [5.0, None])
def test_ratio_panel_is_on_a_log_scale_with_the_reported_ratios(
        pyplot, linear_report, parameter_compression):
    report = dataclasses.replace(linear_report,
                                 parameter_compression=parameter_compression)

    ratio_panel = report.plot().axes[1]

    assert ratio_panel.get_xscale() == "log"
    known = [ratio for ratio in (report.compression, parameter_compression,
                                 report.speedup) if ratio is not None]
    np.testing.assert_allclose(_bar_widths(ratio_panel), known)


def test_several_teachers_and_a_schedule_add_weight_and_temperature_panels(
        pyplot, multi_teacher_report):
    figure = multi_teacher_report.plot()

    assert len(_png(figure)) > 10_000
    assert _titles(figure)[:4] == BASE_TITLES + ["Mean teacher weights",
                                                 "Temperature schedule"]
    weights_panel, temperature_panel = figure.axes[2:4]
    details = multi_teacher_report.details
    np.testing.assert_allclose(_bar_widths(weights_panel),
                               list(details["teacher_weights"].values()))
    (line,) = temperature_panel.get_lines()
    np.testing.assert_allclose(line.get_ydata(), details["temperature_schedule"])
    assert details["temperature_schedule"][0] > details["temperature_schedule"][-1]


def test_accuracy_panel_shows_each_teacher_when_there_are_several(
        pyplot, multi_teacher_report):
    accuracy_panel = multi_teacher_report.plot().axes[0]
    labels = [label.get_text() for label in accuracy_panel.get_yticklabels()]

    assert labels == (["teachers (fused)"]
                      + [f"teacher {name}"
                         for name in multi_teacher_report.teacher_accuracies]
                      + ["student", "fidelity (agreement)"])


def test_chain_steps_draw_capacity_against_fidelity_on_a_log_axis(
        pyplot, linear_report):
    unsized_student = {"role": "student", "capacity": None, "fidelity": 0.9,
                       "accuracy": 0.9, "time_s": 0.1}
    report = dataclasses.replace(linear_report,
                                 details={"chain": CHAIN + [unsized_student]})

    figure = report.plot()

    assert len(_png(figure)) > 10_000
    assert _titles(figure) == BASE_TITLES + ["Distillation chain"]
    chain_panel = figure.axes[-1]
    assert chain_panel.get_xscale() == "log"
    fidelity_line = next(line for line in chain_panel.get_lines()
                         if line.get_label() == "fidelity")
    np.testing.assert_allclose(fidelity_line.get_xdata(),
                               [step["capacity"] for step in CHAIN])
    np.testing.assert_allclose(fidelity_line.get_ydata(),
                               [step["fidelity"] for step in CHAIN])


@pytest.mark.parametrize("details", [
    {},
    {"teacher_weights": {}, "temperature_schedule": [], "chain": []},
    {"teacher_weights": {"only teacher": 1.0}, "temperature_schedule": [2.0],
     "chain": [{"role": "student", "capacity": None, "fidelity": 1.0,
                "accuracy": 0.9, "time_s": 0.1}]},
    {"chain": CHAIN[:1]},
], ids=["absent", "empty", "one-teacher-constant-temperature-student-alone",
        "one-sized-step"])
def test_panels_without_data_are_not_drawn(pyplot, linear_report, details):
    report = dataclasses.replace(linear_report, details=details)

    assert _titles(report.plot()) == BASE_TITLES


def test_plot_divides_the_area_of_a_given_subplot(pyplot, linear_report):
    report = dataclasses.replace(linear_report, details={"chain": CHAIN})
    figure, ax = pyplot.subplots()

    returned = report.plot(ax=ax)

    assert returned is figure
    assert ax not in figure.axes
    assert _titles(figure) == BASE_TITLES + ["Distillation chain"]


def test_plot_rejects_an_axes_that_is_not_a_subplot(pyplot, linear_report):
    ax = pyplot.figure().add_axes((0.1, 0.1, 0.8, 0.8))

    with pytest.raises(ValueError, match="subplot"):
        linear_report.plot(ax=ax)


def test_plot_without_matplotlib_names_the_extra(monkeypatch, linear_report):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)

    with pytest.raises(ImportError, match=r'pip install "skdistill\[plot\]"'):
        linear_report.plot()


def test_html_repr_is_a_table_of_the_reported_numbers(linear_report):
    page = linear_report._repr_html_()

    assert page.startswith("<table") and page.rstrip().endswith("</table>")
    for number in (f"{linear_report.teacher_accuracy:.4f}",
                   f"{linear_report.student_accuracy:.4f}",
                   f"{linear_report.fidelity:.4f}",
                   f"{linear_report.compression:.1f}x",
                   f"{linear_report.speedup:.1f}x",
                   f"{linear_report.student_size.n_bytes:,} bytes"):
        assert number in page
    for name in linear_report.teacher_accuracies:
        assert f"accuracy: {name}" in page


def test_html_repr_summarises_details(linear_report):
    report = dataclasses.replace(linear_report, details={
        "teacher_weights": {"a": 0.25, "b": 0.75},
        "temperature_schedule": [4.0, 3.0, 2.5, 2.0, 1.6, 1.3, 1.1],
        "chain": CHAIN,
    })

    page = report._repr_html_()

    assert "a: 0.25, b: 0.75" in page
    assert "7 values: 4 ... 1.1" in page
    assert "3 steps, the last: capacity: 64, fidelity: 0.93" in page


def test_html_repr_escapes_names(linear_report):
    report = dataclasses.replace(
        linear_report, teacher_accuracies={"<script>alert(1)</script>": 0.5},
        details={"fusion": "<b>&</b>"})

    page = report._repr_html_()

    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in page


def test_estimator_keeps_scikit_learn_html_repr(breast_cancer):
    X, y = breast_cancer
    unfitted = HPMDistiller()._repr_html_()
    fitted = HPMDistiller(_linear_teacher(), student="linear",
                          random_state=0).fit(X, y)._repr_html_()

    for page in (unfitted, fitted):
        assert "HPMDistiller" in page and "sk-estimator" in page
    assert "report_" in fitted
