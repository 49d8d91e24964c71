"""The report of a distillation: what the student kept, what it costs."""

from dataclasses import asdict, dataclass, field

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
        Accuracy of the (fused) teachers' predictions.
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
        Best wall time of ``predict_proba`` on the validation rows.
    speedup : float
        ``teacher_latency_s / student_latency_s``.
    timings_s : dict of str to float
        Wall time of each phase of ``fit``.
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

    def to_dict(self):
        """The report as plain Python types (nested dicts), for JSON or pandas."""
        return asdict(self)

    def __repr__(self):
        rows = [
            ("validation rows", f"{self.n_validation}"),
            ("teacher accuracy", f"{self.teacher_accuracy:.4f}"),
            ("student accuracy", f"{self.student_accuracy:.4f}"),
            ("fidelity", f"{self.fidelity:.4f}"),
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
        width = max(len(name) for name, _ in rows)
        lines = [f"  {name:<{width}}  {value}" for name, value in rows]
        return "DistillationReport(\n" + "\n".join(lines) + "\n)"


def _format_size(size):
    parameters = "?" if size.n_parameters is None else f"{size.n_parameters:,}"
    return f"{parameters} parameters, {size.n_bytes:,} bytes"


def _format_ratio(ratio):
    return "n/a" if ratio is None else f"{ratio:.1f}x"
