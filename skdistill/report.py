"""The report of a distillation: what the student kept, what it costs."""

import html
import math
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real

from .metrics import ModelSize


@dataclass(frozen=True)
class DistillationReport:
    """What a fitted :class:`~skdistill.HPMDistiller` measured on its validation rows.

    The validation rows are an internal split of the training data: neither the
    teachers HPMDistiller fits nor the student were fitted on them.

    Attributes
    ----------
    n_validation : int
        Rows the measures below were taken on.
    teacher_accuracy : float
        Accuracy of the (fused) teachers' predictions. A prefit teacher fitted
        on every row of ``X`` has seen the validation rows: where it was
        cross-fitted as fitted on its training rows and its copies were kept
        (on at most 20,000 training rows, without ``X_val``, with
        ``final_rows="all"`` or a check that labels with them), ``details``
        holds ``"teachers_out_of_sample"``, the accuracy of the fused teachers
        with its cross-fitted copies (which never saw these rows) in its
        place, and the text and HTML show it beside this one.
    teacher_accuracies : dict of str to float
        Accuracy of each teacher on its own.
    student_accuracy : float
        Accuracy of the student.
    fidelity : float
        Fraction of rows where the student predicts the teachers' class.
    retention : float
        ``student_accuracy / teacher_accuracy``.
    teacher_size, student_size : ModelSize
        Parameters (weights or tree nodes) and pickled bytes; the teacher size is
        that of all teachers together, the student's includes its preprocessing.
    compression : float
        ``teacher_size.n_bytes / student_size.n_bytes``.
    parameter_compression : float or None
        The same ratio over parameters, where both are known.
    teacher_latency_s, student_latency_s : float
        Best wall time of ``predict_proba`` on the validation rows (beyond
        10,000 of them, timed on the first 10,000 and scaled to all).
    speedup : float
        ``teacher_latency_s / student_latency_s``.
    timings_s : dict of str to float
        Wall time of each phase of ``fit``: ``"teachers"`` (fitting the
        teachers and their cross-fitted copies, one parallel queue),
        ``"soft_targets"`` (labelling the training rows where out-of-fold
        outputs are not used), ``"fusion"``, ``"augment"``, ``"configuration"``
        (the search of ``student="auto"``), ``"distillation_check"``
        (``HPMRegressor``'s alpha 0.7 or 0 for a named student with
        ``alpha="auto"``), ``"student"`` (the chain and the
        student) and ``"final_rows"`` (with ``final_rows="all"``, the student
        refitted on every row after this report was measured).
    details : dict
        What the optional components recorded (temperature schedule, teacher
        weights, chain steps...).
    """

    n_validation: int
    teacher_accuracy: float
    teacher_accuracies: dict
    student_accuracy: float
    fidelity: float
    retention: float
    teacher_size: ModelSize
    student_size: ModelSize
    compression: float
    parameter_compression: float | None
    teacher_latency_s: float
    student_latency_s: float
    speedup: float
    timings_s: dict
    details: dict = field(default_factory=dict)

    # What the scores are called in the text, the HTML and the plot, and the
    # key of the score in the chain's steps and the search's evaluations.
    score_label = "accuracy"
    fidelity_label = "fidelity"
    score_key = "accuracy"

    def to_dict(self):
        """The report as plain Python types (nested dicts), for JSON or pandas."""
        return asdict(self)

    def _headline_rows(self):
        """(name, formatted value) pairs of the headline numbers and timings."""
        out_of_sample = self.details.get("teachers_out_of_sample")
        rows = [
            ("validation rows", f"{self.n_validation}"),
            (f"teacher {self.score_label}", f"{self.teacher_accuracy:.4f}"),
            *([(f"teacher {self.score_label}, copies (out of sample)",
                f"{out_of_sample[self.score_key]:.4f} (retention "
                f"{out_of_sample['retention']:.2%})")] if out_of_sample else []),
            (f"student {self.score_label}", f"{self.student_accuracy:.4f}"),
            (self.fidelity_label, f"{self.fidelity:.4f}"),
            ("retention", f"{self.retention:.2%}"),
            ("teacher size", _format_size(self.teacher_size)),
            ("student size", _format_size(self.student_size)),
            ("compression (bytes)", f"{self.compression:.1f}x"),
            ("compression (parameters)", _format_ratio(self.parameter_compression)),
            ("teacher predict", f"{self.teacher_latency_s * 1e3:.2f} ms"),
            ("student predict", f"{self.student_latency_s * 1e3:.2f} ms"),
            ("speed-up", f"{self.speedup:.1f}x"),
        ]
        rows += [(f"time: {phase}", f"{seconds:.2f} s")
                 for phase, seconds in self.timings_s.items()]
        return rows

    def __repr__(self):
        rows = self._headline_rows()
        width = max(len(name) for name, _ in rows)
        lines = [f"  {name:<{width}}  {value}" for name, value in rows]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def _repr_html_(self):
        """The report as an HTML table, for Jupyter.

        Returns
        -------
        str
            A ``<table>`` with the headline numbers, each teacher's accuracy,
            the timings and a summary of ``details``; every value is escaped.
        """
        sections = [
            ("Headline", self._headline_rows()),
            ("Teachers", [(f"{self.score_label}: {name}", f"{accuracy:.4f}")
                          for name, accuracy in self.teacher_accuracies.items()]),
            ("Details", [(str(key), _summarise(value))
                         for key, value in self.details.items()]),
        ]
        lines = ['<table class="skdistill-report">',
                 f"<caption>{type(self).__name__}</caption>"]
        for title, rows in sections:
            if not rows:
                continue
            lines.append(f'<tr><th colspan="2" style="text-align:left">'
                         f"{html.escape(title)}</th></tr>")
            lines += [f'<tr><td style="text-align:left">{html.escape(name)}</td>'
                      f'<td style="text-align:right">{html.escape(value)}</td></tr>'
                      for name, value in rows]
        lines.append("</table>")
        return "\n".join(lines)

    def plot(self, ax=None, *, n_cols=2):
        """Draw the report on one matplotlib figure, one panel per part.

        Needs matplotlib (``pip install "skdistill[plot]"``), imported here and
        nowhere else in the package.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
            ``None`` draws on a new figure. An Axes made as a subplot (by
            ``plt.subplots`` or ``fig.add_subplot``) has its area divided
            among the panels; the Axes itself is removed from its figure.
        n_cols : int, default=2
            Panels per row, at most.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on. Its ``axes`` are the panels, in this order,
            each titled: "Accuracy and fidelity" ("R² and fidelity" for a
            :class:`RegressionReport`; the fused teachers, each
            teacher when there are several, the student, and the student's
            agreement with the teachers); "Teacher / student ratios"
            (compression in bytes and in parameters, and predict speed-up, on a
            log scale); and, when ``details`` holds them, "Mean teacher weights"
            (``details["teacher_weights"]``, drawn for two teachers or more),
            "Temperature schedule" (``details["temperature_schedule"]``, drawn
            when the temperature changed at least once, i.e. two values or
            more) and "Distillation chain" (``details["chain"]``, a list of
            dicts with ``"capacity"``, ``"fidelity"``, ``"accuracy"`` and
            ``"time_s"``: each step's fidelity and accuracy against its
            capacity, on a log scale; drawn when two steps or more have a
            known capacity).

        Raises
        ------
        ImportError
            When matplotlib is not installed.

        See Also
        --------
        sklearn.metrics.RocCurveDisplay.plot : The same ``ax=None`` convention.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skdistill import HPMDistiller
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> teacher = make_pipeline(StandardScaler(), LogisticRegression())
        >>> distiller = HPMDistiller(teacher, student="linear", random_state=0)
        >>> fig = distiller.fit(X, y).report_.plot()
        >>> [panel.get_title() for panel in fig.axes]
        ['Accuracy and fidelity', 'Teacher / student ratios']
        """
        plt = _import_pyplot()
        panels = [_plot_accuracy, _plot_ratios]
        if len(self.details.get("teacher_weights") or {}) > 1:
            panels.append(_plot_teacher_weights)
        if len(self.details.get("temperature_schedule") or []) > 1:
            panels.append(_plot_temperature)
        if len(_sized_chain_steps(self.details)) > 1:
            panels.append(_plot_chain)
        n_cols = max(1, min(int(n_cols), len(panels)))
        n_rows = math.ceil(len(panels) / n_cols)
        if ax is None:
            figure = plt.figure(figsize=(6.4 * n_cols, 3.4 * n_rows),
                                layout="constrained")
            grid = figure.add_gridspec(n_rows, n_cols)
        else:
            spec = ax.get_subplotspec()
            if spec is None:
                raise ValueError("ax must be a subplot (made by plt.subplots or "
                                 "fig.add_subplot), whose area can be divided.")
            figure = ax.figure
            grid = spec.subgridspec(n_rows, n_cols)
            ax.remove()
        for i, draw in enumerate(panels):
            draw(self, figure.add_subplot(grid[i // n_cols, i % n_cols]))
        return figure


@dataclass(frozen=True, repr=False)  # DistillationReport's text, R² in it
class RegressionReport(DistillationReport):
    """What a fitted :class:`~skdistill.HPMRegressor` measured on its validation rows.

    The fields of :class:`DistillationReport`, where a score is R²
    (``teacher_accuracy`` is the fused teachers' R², ``student_accuracy`` the
    student's, ``teacher_accuracies`` each teacher's), ``fidelity`` is the R² of
    the student's predictions against the fused teachers' and ``retention`` is
    ``student R² / teacher R²``; and the errors below, in the target's units.
    Latencies are of ``predict``.

    Attributes
    ----------
    teacher_rmse, student_rmse : float
        Root mean squared error of the fused teachers and of the student.
    teacher_mae, student_mae : float
        Mean absolute error of the fused teachers and of the student.
    """

    teacher_rmse: float = math.nan
    teacher_mae: float = math.nan
    student_rmse: float = math.nan
    student_mae: float = math.nan

    @property
    def teacher_r2(self):
        """R² of the fused teachers (``teacher_accuracy``)."""
        return self.teacher_accuracy

    @property
    def student_r2(self):
        """R² of the student (``student_accuracy``)."""
        return self.student_accuracy

    score_label = "R²"
    fidelity_label = "fidelity (R² vs teachers)"
    score_key = "r2"

    def _headline_rows(self):
        rows = super()._headline_rows()
        errors = [("teacher RMSE", f"{self.teacher_rmse:.4g}"),
                  ("student RMSE", f"{self.student_rmse:.4g}"),
                  ("teacher MAE", f"{self.teacher_mae:.4g}"),
                  ("student MAE", f"{self.student_mae:.4g}")]
        return rows[:4] + errors + rows[4:]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "DistillationReport.plot needs matplotlib, an optional dependency: "
            'pip install "skdistill[plot]"'
        ) from error
    return plt


def _plot_accuracy(report, ax):
    bars = [("teachers (fused)", report.teacher_accuracy)]
    if len(report.teacher_accuracies) > 1:
        bars += [(f"teacher {name}", accuracy)
                 for name, accuracy in report.teacher_accuracies.items()]
    fidelity = ("fidelity (agreement)" if report.fidelity_label == "fidelity"
                else report.fidelity_label)
    bars += [("student", report.student_accuracy), (fidelity, report.fidelity)]
    colors = (["tab:gray"] * (len(bars) - 2)) + ["tab:blue", "tab:orange"]
    names, values = zip(*bars, strict=True)
    drawn = ax.barh(names, values, color=colors)
    ax.bar_label(drawn, fmt="%.3f", padding=2)
    ax.invert_yaxis()
    ax.set_xlim(min(0.0, *values), 1.15)  # an R² may be negative
    ax.set_xlabel(f"on {report.n_validation} validation rows")
    ax.set_title(f"{report.score_label.capitalize()} and fidelity")


def _plot_ratios(report, ax):
    bars = [("compression (bytes)", report.compression)]
    if report.parameter_compression is not None:
        bars.append(("compression (parameters)", report.parameter_compression))
    bars.append(("predict speed-up", report.speedup))
    names, values = zip(*bars, strict=True)
    drawn = ax.barh(names, values, color="tab:green")
    ax.bar_label(drawn, labels=[f"{value:.1f}x" for value in values], padding=2)
    ax.invert_yaxis()
    ax.set_xscale("log")
    low, high = min(min(values), 1.0), max(max(values), 1.0)
    ax.set_xlim(low / 2, high * 4)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("teacher / student (log scale)")
    ax.set_title("Teacher / student ratios")


def _plot_teacher_weights(report, ax):
    names, weights = zip(*report.details["teacher_weights"].items(), strict=True)
    drawn = ax.barh(names, weights, color="tab:purple")
    ax.bar_label(drawn, fmt="%.3f", padding=2)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("mean weight (validation rows)")
    ax.set_title("Mean teacher weights")


def _plot_temperature(report, ax):
    schedule = report.details["temperature_schedule"]
    ax.plot(range(1, len(schedule) + 1), schedule, marker=".", color="tab:red")
    ax.set_xlabel("epoch, round or chain step")
    ax.set_ylim(0, max(schedule) * 1.15)
    ax.set_ylabel("temperature")
    ax.set_title("Temperature schedule")


def _sized_chain_steps(details):
    """The chain's steps whose capacity is known (a positive number)."""
    return [step for step in details.get("chain") or []
            if isinstance(step.get("capacity"), Real) and step["capacity"] > 0]


def _plot_chain(report, ax):
    steps = _sized_chain_steps(report.details)
    capacity = [step["capacity"] for step in steps]
    for key, color in (("fidelity", "tab:orange"), (report.score_key, "tab:blue")):
        ax.plot(capacity, [step[key] for step in steps], marker="o",
                color=color, label=key)
    for number, step in enumerate(steps, start=1):
        ax.annotate(f"{step.get('role', number)}: {step['time_s']:.1f} s",
                    (step["capacity"], step["fidelity"]),
                    textcoords="offset points", xytext=(4, 4), fontsize="small")
    ax.set_xscale("log")
    ax.margins(x=0.15, y=0.15)
    ax.set_xlabel("capacity (log scale); labels: fit time")
    ax.legend(loc="lower right")
    ax.set_title("Distillation chain")


def _format_size(size):
    parameters = "?" if size.n_parameters is None else f"{size.n_parameters:,}"
    return f"{parameters} parameters, {size.n_bytes:,} bytes"


def _format_ratio(ratio):
    return "n/a" if ratio is None else f"{ratio:.1f}x"


def _summarise(value, max_items=6):
    """A short text for one entry of ``details``."""
    if isinstance(value, Real) and not isinstance(value, Integral):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_summarise(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if all(isinstance(item, dict) for item in value):
            return f"{len(value)} steps, the last: {_summarise(value[-1])}"
        if len(value) > max_items:
            return (f"{len(value)} values: {_summarise(value[0])} ... "
                    f"{_summarise(value[-1])}")
        return ", ".join(_summarise(item) for item in value)
    return str(value)
