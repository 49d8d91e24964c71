"""What a distillation's steps need to know about the task, behind one object.

Every step of a fit (the teachers' outputs, the fusion, the splits, the
configuration search, the augmentation and chain checks, the report) works on
*outputs*: an array of shape ``(n_samples, n_outputs)`` per teacher, fused into
the student's targets. What those outputs are, how a prediction is read from
them, how predictions are scored and how rows are stratified is the task's: the
steps ask the task object and never assume class probabilities.

:class:`ClassificationTask` is the one :class:`~skdistill.HPMDistiller` uses:
outputs are class probabilities, a prediction is the most probable class, the
score is accuracy, and rows are stratified by class. A regression task
implements the same methods (outputs of width one, the prediction the output
itself, R² as the score, strata by quantile).
"""

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from ._fusion import make_fusion
from ._fusion_regression import make_regression_fusion
from ._teachers import (
    check_regression_teachers,
    check_teacher_classes,
    check_teacher_methods,
    encoded_if_needed,
    teacher_prediction,
    teacher_proba,
)
from .metrics import fidelity
from .report import DistillationReport, RegressionReport
from .students import REGRESSION_STUDENT_FAMILIES, STUDENT_FAMILIES

# RegressionTask.strata: at most N_STRATA quantile bins of the target, and at
# least MIN_STRATUM_ROWS rows per bin (so that a fifth of a bin is a row).
N_STRATA = 5
MIN_STRATUM_ROWS = 10
# Where a fit chooses between students (the race of the configuration search,
# the runner-up's MUNGE check), it scores them on the selection rows against
# their labels and, with this weight, the fused teachers' outputs there, which
# come from copies that never saw those rows (``selection_score``). Whether to
# learn more from the teachers (the distil-or-not twin, alpha="auto", MUNGE
# rows) uses this score only where the task allows it (``trusts_teachers``:
# classification) and the teachers are at least as accurate there as the
# students compared (``teachers_trusted``), the labels alone otherwise: the
# score leans towards the teachers. benchmarks/README, "Choosing between
# students against the labels and the teachers".
SELECTION_TEACHER_WEIGHT = 0.5
# A student predicting a single class where the fused teachers predict another
# on at least this share of the rows, or a regression student whose predictions
# spread (standard deviation) at most this share of the teachers', learned the
# labels' prior, not the teachers (the tasks' ``collapsed``).
COLLAPSED_SPREAD = 0.05


def teachers_trusted(task, y, outputs, student_scores):
    """Whether a choice about learning more from the teachers may be made on
    the selection score: the task allows it (``trusts_teachers``) and the
    fused teachers' ``outputs`` score at least as high on these rows
    (``task.score`` against ``y``) as every one of the students'
    ``student_scores`` there.

    A useless or misleading teacher scores below the students, and the
    choice is then made on the labels alone.
    """
    return (task.trusts_teachers
            and task.score(y, task.predictions(outputs)) >= max(student_scores))


class ClassificationTask:
    """Classification: class probabilities as outputs, scored by accuracy.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The labels, sorted: the order of every output's columns.
    """

    kind = "classification"
    # What the score is called where the report lists the search's evaluations.
    score_name = "accuracy"
    # Whether the checks about learning more from the teachers may decide on
    # the selection score where the teachers are as accurate (teachers_trusted).
    trusts_teachers = True
    # The student classes of each family name (``student="mlp"``...), and the
    # report the fit measures.
    student_families = STUDENT_FAMILIES
    report_type = DistillationReport

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def __repr__(self):
        return f"ClassificationTask(n_classes={len(self.classes)})"

    @property
    def n_outputs(self):
        """Width of a teacher's outputs: the number of classes."""
        return len(self.classes)

    def cache_key(self):
        """What the teachers' outputs depend on besides the teachers and rows."""
        return self.classes

    def teacher_to_fit(self, teacher, y):
        """The unfitted teacher as it is fitted on ``y``: on labels coded
        ``0 .. k-1`` where they are anything else (``EncodedLabelsClassifier``)."""
        return encoded_if_needed(teacher, y)

    def teacher_outputs(self, teacher, X):
        """One teacher's probabilities on ``X``, columns following ``classes``."""
        return teacher_proba(teacher, X, self.classes)

    def serving_method(self, student):
        """The fitted student's method that gives its outputs: ``predict_proba``."""
        return student.predict_proba

    def check_teachers(self, teachers, names=None):
        """Raise, naming the teacher, unless each can label rows with
        probabilities of the task's classes (and fitted ones know only them);
        a regressor is refused."""
        check_teacher_methods(teachers, names)
        check_teacher_classes(teachers, self.classes)

    def predictions(self, outputs):
        """The labels that outputs of shape (n_samples, n_classes) predict."""
        return self.classes[np.asarray(outputs).argmax(axis=1)]

    def score(self, y_true, y_pred):
        """Accuracy: higher is better."""
        return float(np.mean(np.asarray(y_pred) == np.asarray(y_true)))

    def row_scores(self, y_true, y_pred):
        """Each row's share of :meth:`score` (their mean): 1 where right, 0
        where wrong. Two students' differences row by row are what the
        search's size check weighs against their noise."""
        return (np.asarray(y_pred) == np.asarray(y_true)).astype(np.float64)

    def agreement(self, y_pred, teacher_pred):
        """Fidelity: how often the student predicts what the teachers predict."""
        return fidelity(y_pred, teacher_pred)

    def selection_score(self, y_true, y_pred, outputs):
        """The accuracy expected when each row's label is its own with
        probability ``1 - SELECTION_TEACHER_WEIGHT`` and otherwise drawn from
        the teachers' probabilities ``outputs``: where two students disagree,
        less noisy than the labels alone, and a student right where the
        teachers are wrong still scores higher."""
        hit = np.asarray(y_pred) == np.asarray(y_true)
        believed = np.asarray(outputs)[np.arange(len(hit)), self.encode(y_pred)]
        return float(np.mean((1.0 - SELECTION_TEACHER_WEIGHT) * hit
                             + SELECTION_TEACHER_WEIGHT * believed))

    def loss(self, y, outputs, sample_weight=None):
        """Log loss of probabilities ``outputs`` on labels ``y`` (lower is better;
        probabilities clipped at 1e-7)."""
        picked = np.asarray(outputs)[np.arange(len(y)), self.encode(y)]
        return float(np.average(-np.log(np.clip(picked, 1e-7, 1.0)),
                                weights=sample_weight))

    def strata(self, y):
        """What splits keep in proportion: the classes."""
        return y

    def encode(self, y):
        """What the fusion learns against: labels coded ``0 .. n_classes - 1``."""
        return np.searchsorted(self.classes, y)

    def make_fusion(self, name, seed):
        """The fusion of probability vectors called ``name``, unfitted."""
        return make_fusion(name, seed)

    def report_scores(self, y_true, teacher_pred, student_pred):
        """The report's fields beyond the shared ones: none for classification."""
        return {}

    def spread(self, y_pred):
        """How varied predictions are: the share of rows not predicted as
        their most common class (0: a single class)."""
        _, counts = np.unique(y_pred, return_counts=True)
        return float(1.0 - counts.max() / counts.sum())

    def collapsed(self, student_spread, teacher_spread):
        """Whether a student whose predictions spread ``student_spread`` (see
        :meth:`spread`) where the teachers' spread ``teacher_spread`` learned
        the labels' prior rather than the teachers: a single class, where the
        teachers predict others on at least :data:`COLLAPSED_SPREAD` of the
        rows (a stray row or two of another class is not a pattern)."""
        return student_spread == 0 and teacher_spread >= COLLAPSED_SPREAD

    def collapse_words(self, student_spread, teacher_spread):
        """What :meth:`collapsed` found, in words."""
        return ("predicts a single class on the validation rows, where the fused "
                f"teachers predict another on {teacher_spread:.0%} of them")

    def spread_words(self, spread):
        """A spread (:meth:`spread`) in words."""
        return f"predicts a class other than its most common on {spread:.0%} of them"

    def target_meta(self, y, outputs):
        """The task's meta-features for the configuration's ranker.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            The labels of the training rows.
        outputs : ndarray of shape (n_teachers, n_samples, n_classes)
            The teachers' out-of-fold probabilities on those rows.

        Returns
        -------
        dict
            Classes, class entropy (normalised to [0, 1]), and the accuracy, mean
            top probability and mean pairwise disagreement of the teachers.
        """
        n_teachers, n_rows, n_classes = outputs.shape
        shares = np.bincount(self.encode(y), minlength=n_classes) / n_rows
        shares = shares[shares > 0]
        mean = outputs.mean(axis=0)
        predicted = outputs.argmax(axis=2)
        pairs = [(i, j) for i in range(n_teachers) for j in range(i + 1, n_teachers)]
        return {
            "n_classes": int(n_classes),
            "class_entropy": float(-np.sum(shares * np.log(shares))
                                   / np.log(n_classes)),
            "teacher_accuracy": self.score(y, self.predictions(mean)),
            "teacher_confidence": float(np.mean(mean.max(axis=1))),
            "teacher_disagreement": float(np.mean(
                [np.mean(predicted[i] != predicted[j]) for i, j in pairs]) if pairs
                else 0.0),
        }


class RegressionTask:
    """Regression: each teacher's prediction as its one output, scored by R².

    :class:`~skdistill.HPMRegressor`'s task. Outputs have shape
    ``(n_samples, 1)``: the prediction is the output itself; the score is R²
    and the agreement with the teachers the R² of the student's predictions
    against theirs; rows are stratified by quantile bins of the target.
    """

    kind = "regression"
    score_name = "r2"
    # Not for regression: on the regression suite the gate opened once in 15
    # fits and cost ames 8.9 % RMSE on that seed (benchmarks/README, "The
    # teachers trusted where they are as accurate").
    trusts_teachers = False
    n_outputs = 1
    student_families = REGRESSION_STUDENT_FAMILIES
    report_type = RegressionReport

    def __repr__(self):
        return "RegressionTask()"

    def cache_key(self):
        """What the teachers' outputs depend on besides the teachers and rows."""
        return "regression"

    def teacher_to_fit(self, teacher, y):
        """The unfitted teacher as it is fitted on ``y``: itself."""
        return teacher

    def teacher_outputs(self, teacher, X):
        """One teacher's predictions on ``X``, shape (n_samples, 1)."""
        return teacher_prediction(teacher, X)

    def serving_method(self, student):
        """The fitted student's method that gives its outputs: ``predict``."""
        return student.predict

    def check_teachers(self, teachers, names=None):
        """Raise, naming the teacher, unless each is a regressor that can predict
        (a classifier is refused: its predictions are labels)."""
        check_regression_teachers(teachers)

    def predictions(self, outputs):
        """The predictions that outputs of shape (n_samples, 1) hold."""
        return np.asarray(outputs)[:, 0]

    def score(self, y_true, y_pred):
        """R²: higher is better."""
        return float(r2_score(y_true, y_pred))

    def row_scores(self, y_true, y_pred):
        """Each row's share of :meth:`score` (their mean, R²): ``1 - n e_i^2
        / SST``, whose differences between two students are paired row by
        row as :meth:`ClassificationTask.row_scores`' are."""
        y_true = np.asarray(y_true, dtype=np.float64)
        squared = (np.asarray(y_pred, dtype=np.float64) - y_true) ** 2
        total = np.sum((y_true - y_true.mean()) ** 2)
        if total == 0:
            return np.full(len(y_true), self.score(y_true, y_pred))
        return 1.0 - len(y_true) * squared / total

    def agreement(self, y_pred, teacher_pred):
        """Fidelity: R² of the student's predictions against the teachers'."""
        return float(r2_score(teacher_pred, y_pred))

    def selection_score(self, y_true, y_pred, outputs):
        """R² with each squared error taken against the true target with weight
        ``1 - SELECTION_TEACHER_WEIGHT`` and against the teachers' prediction
        ``outputs[:, 0]`` with ``SELECTION_TEACHER_WEIGHT``: the classification
        score's counterpart (the target's noise enters the comparison of two
        students with half its weight)."""
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        total = np.sum((y_true - y_true.mean()) ** 2)
        if total == 0:
            return self.score(y_true, y_pred)
        teachers = np.asarray(outputs)[:, 0]
        errors = ((1.0 - SELECTION_TEACHER_WEIGHT) * (y_pred - y_true) ** 2
                  + SELECTION_TEACHER_WEIGHT * (y_pred - teachers) ** 2)
        return float(1.0 - errors.sum() / total)

    def loss(self, y, outputs, sample_weight=None):
        """Mean squared error of predictions ``outputs`` on ``y`` (lower is better)."""
        errors = (np.asarray(outputs)[:, 0] - np.asarray(y, dtype=np.float64)) ** 2
        return float(np.average(errors, weights=sample_weight))

    def strata(self, y):
        """What splits keep in proportion: quantile bins of ``y``.

        :data:`N_STRATA` bins, fewer below :data:`MIN_STRATUM_ROWS` rows per
        bin; bins are cut at the target's quantiles, and repeated quantiles (a
        target with few distinct values) merge their bins. A value equal to a
        cut goes to the lower bin.
        """
        y = np.asarray(y, dtype=np.float64)
        n_bins = int(np.clip(len(y) // MIN_STRATUM_ROWS, 1, N_STRATA))
        edges = np.unique(np.quantile(y, np.linspace(0, 1, n_bins + 1)[1:-1]))
        return np.searchsorted(edges, y, side="left")

    def encode(self, y):
        """What the fusion learns against: the target as floats."""
        return np.asarray(y, dtype=np.float64)

    def make_fusion(self, name, seed):
        """The fusion of predictions called ``name``, unfitted."""
        return make_regression_fusion(name, seed)

    def spread(self, y_pred):
        """How varied predictions are: their standard deviation."""
        return float(np.std(y_pred))

    def collapsed(self, student_spread, teacher_spread):
        """Whether a student whose predictions spread ``student_spread``
        (standard deviation) where the teachers' spread ``teacher_spread``
        predicts nearly one value: at most :data:`COLLAPSED_SPREAD` of
        theirs."""
        return (teacher_spread > 0
                and student_spread <= COLLAPSED_SPREAD * teacher_spread)

    def collapse_words(self, student_spread, teacher_spread):
        """What :meth:`collapsed` found, in words."""
        return (f"predicts nearly a single value on the validation rows (standard "
                f"deviation {student_spread:.3g}, the fused teachers' "
                f"{teacher_spread:.3g})")

    def spread_words(self, spread):
        """A spread (:meth:`spread`) in words."""
        return f"predicts them with a standard deviation of {spread:.3g}"

    def report_scores(self, y_true, teacher_pred, student_pred):
        """RMSE and MAE of the fused teachers and of the student."""
        return {
            "teacher_rmse": float(np.sqrt(mean_squared_error(y_true, teacher_pred))),
            "teacher_mae": float(mean_absolute_error(y_true, teacher_pred)),
            "student_rmse": float(np.sqrt(mean_squared_error(y_true, student_pred))),
            "student_mae": float(mean_absolute_error(y_true, student_pred)),
        }

    def target_meta(self, y, outputs):
        """The task's meta-features, under the keys the ranker reads.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            The targets of the training rows.
        outputs : ndarray of shape (n_teachers, n_samples, 1)
            The teachers' out-of-fold predictions on those rows.

        Returns
        -------
        dict
            ``n_classes`` 1 and ``class_entropy`` 0 (no classes);
            ``teacher_accuracy``: R² of the teachers' mean prediction;
            ``teacher_confidence``: 1 minus the teachers' mean spread (their
            standard deviation per row) over the target's, clipped to [0, 1];
            ``teacher_disagreement``: the teachers' mean pairwise RMS
            difference over the target's standard deviation. The ranker's
            prior holds classification experiments only, so for regression
            these are recorded, not used to rank (see ARCHITECTURE.md).
        """
        values = outputs[:, :, 0]
        n_teachers = values.shape[0]
        spread_y = float(np.std(y)) or 1.0
        pairs = [(i, j) for i in range(n_teachers) for j in range(i + 1, n_teachers)]
        return {
            "n_classes": 1,
            "class_entropy": 0.0,
            "teacher_accuracy": self.score(y, values.mean(axis=0)),
            "teacher_confidence": float(np.clip(
                1.0 - np.mean(values.std(axis=0)) / spread_y, 0.0, 1.0)),
            "teacher_disagreement": float(np.mean(
                [np.sqrt(np.mean((values[i] - values[j]) ** 2)) / spread_y
                 for i, j in pairs]) if pairs else 0.0),
        }
