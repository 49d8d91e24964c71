"""The student's targets: the teachers' outputs fused, on rows encoded for it.

:func:`fit_targets` fits the student's preprocessing and the fusion (HPM-KD
component iii) on the training rows and returns the transfer set;
:class:`FusedTeachers` then labels any other rows the same way (the synthetic
rows, the validation rows of the report, ``teacher_proba``).
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from ._preprocess import default_preprocessor
from ._teacher_outputs import cached_output, teachers_outputs
from ._transfer import TransferSet


@dataclass(frozen=True)
class FusedTeachers:
    """The fitted teachers, their fusion, and the inputs of gate and student.

    Attributes
    ----------
    teachers : list of estimators
        Fitted teachers.
    task : ClassificationTask
        What the teachers' outputs are (see ``_task``).
    fusion : object
        The fitted fusion (``fuse``, ``weights``).
    preprocessor : transformer
        The student's fitted preprocessing (of the student's columns).
    gate_preprocessor : transformer
        The gate's (of every column); the student's own when the student sees
        every column.
    student_columns : callable
        Picks the student's columns from rows with every column.
    n_jobs : int or None
        Workers for the teachers' predictions.
    """

    teachers: list
    task: object
    fusion: object
    preprocessor: object
    gate_preprocessor: object
    student_columns: object
    n_jobs: int | None = None

    def gate_inputs(self, X):
        """The gate's features of rows ``X`` (every column)."""
        return transformed(self.gate_preprocessor, X)

    def student_inputs(self, X, Z_gate=None):
        """The student's preprocessed inputs of rows ``X`` (every column)."""
        if Z_gate is not None and self.gate_preprocessor is self.preprocessor:
            return Z_gate
        return transformed(self.preprocessor, self.student_columns(X))

    def outputs(self, X):
        """Every teacher's outputs, shape (n_teachers, n_samples, n_outputs)."""
        return teachers_outputs(self.teachers, X, self.task, self.n_jobs)

    def label(self, X, outputs=None):
        """The student's inputs of rows ``X`` and their fused targets.

        The teachers' outputs (unless given, shape (n_teachers, n_samples,
        n_outputs)) go through the process's cache: a refit with the same
        seed makes the same synthetic rows.
        """
        Z_gate = self.gate_inputs(X)
        if outputs is None:
            outputs = cached_output(None, "proba", self.teachers,
                                    (X, self.task.cache_key()),
                                    lambda: self.outputs(X))
        targets = self.fusion.fuse(Z_gate, outputs)
        return self.student_inputs(X, Z_gate), targets


def fit_targets(X, X_student, y, sample_weight, outputs, *, task, fusion,
                student_preprocessor, family, student_columns, seed, n_jobs,
                held_out=None):
    """Fit the preprocessing and the fusion; the transfer set of the training rows.

    Parameters
    ----------
    X : array-like or DataFrame
        The training rows, every column.
    X_student : array-like or DataFrame
        The same rows, the student's columns.
    y : ndarray
        Their targets.
    sample_weight : ndarray or None
        Their weights.
    outputs : TeacherOutputs
        The teachers and their outputs on these rows.
    task : ClassificationTask
        What the outputs are; makes the fusion.
    fusion : {"attention", "mean", "accuracy"}
        The fusion to fit.
    student_preprocessor : transformer, "passthrough" or None
        The distiller's parameter.
    family : str
        The student's family: sets the default preprocessing.
    student_columns : callable
        Picks the student's columns.
    seed : int
        Seeds the fusion.
    n_jobs : int or None
        Workers for the teachers' predictions on other rows.
    held_out : ndarray of int or None
        The rows the fit chooses on: the fusion learns on the others (it
        learns against the labels, which the choice must not have seen), and
        the transfer set keeps them as its ``held_out`` rows.

    Returns
    -------
    fused : FusedTeachers
    transfer : TransferSet
    """
    preprocessor = fit_preprocessor(student_preprocessor, family, X_student)
    gate_preprocessor = preprocessor
    if X_student is not X:
        if fusion == "attention" and len(outputs.teachers) > 1:
            # The gate never serves, so it reads every column; a preprocessor
            # given for the student's columns may not know the others.
            gate_preprocessor = default_preprocessor(family, X).fit(X)
        else:
            # A fusion that reads no features: no preprocessing of the other
            # columns (which the default one might not even read).
            gate_preprocessor = _StudentColumnsThen(preprocessor, student_columns)
    Z = transformed(preprocessor, X_student)
    Z_gate = (Z if gate_preprocessor is preprocessor
              or isinstance(gate_preprocessor, _StudentColumnsThen)
              else transformed(gate_preprocessor, X))
    fitted = task.make_fusion(fusion, seed).fit(
        Z_gate, outputs.gate, task.encode(y),
        _without_held_out(sample_weight, held_out, len(y)))
    targets = fitted.fuse(Z_gate, outputs.targets)
    fused = FusedTeachers(outputs.teachers, task, fitted, preprocessor,
                          gate_preprocessor, student_columns, n_jobs)
    return fused, TransferSet(Z, y, targets, sample_weight, task=task,
                              held_out=held_out)


# Above this many rows the transfer set's inputs are made in float32, a chunk
# of rows at a time, as the students that train on many rows compute (trees,
# XGBoost, the networks): at a million rows the float64 inputs (378 MB for 59
# columns) and their float32 copy for the student were alive together, the
# fit's peak (benchmarks/README.md, session 9).
FLOAT32_ROWS = 100_000
_CHUNK_ROWS = 65_536


def transformed(preprocessor, X):
    """``preprocessor.transform(X)``; above :data:`FLOAT32_ROWS` rows, made in
    float32 a chunk of :data:`_CHUNK_ROWS` rows at a time when the
    preprocessing gives a dense array (a transform row by row, as the default
    preprocessing's scaling and one-hot encoding are)."""
    n_rows = _num_samples(X)
    if n_rows <= FLOAT32_ROWS:
        return preprocessor.transform(X)
    first = preprocessor.transform(_safe_indexing(X, np.arange(_CHUNK_ROWS)))
    if not isinstance(first, np.ndarray) or first.ndim != 2:
        return preprocessor.transform(X)
    Z = np.empty((n_rows, first.shape[1]), dtype=np.float32)
    Z[:_CHUNK_ROWS] = first
    for start in range(_CHUNK_ROWS, n_rows, _CHUNK_ROWS):
        rows = np.arange(start, min(start + _CHUNK_ROWS, n_rows))
        Z[rows] = preprocessor.transform(_safe_indexing(X, rows))
    return Z


def _without_held_out(sample_weight, held_out, n_rows):
    """The fusion's row weights: ``sample_weight`` with the ``held_out`` rows
    at 0. Every fusion weighs its rows (the gate's statistics, its loss and
    penalty, the accuracy weights), so a weight of 0 leaves a row out exactly
    as a subset would, with no copy of the gate's inputs (at 1M rows,
    hundreds of MB)."""
    if held_out is None or not len(held_out):
        return sample_weight
    weight = (np.ones(n_rows) if sample_weight is None
              else np.array(sample_weight, dtype=np.float64))
    weight[held_out] = 0.0
    return weight


class _StudentColumnsThen:
    """The student's preprocessing of the student's columns, as the gate's inputs."""

    def __init__(self, preprocessor, student_columns):
        self.preprocessor = preprocessor
        self.student_columns = student_columns

    def transform(self, X):
        return self.preprocessor.transform(self.student_columns(X))


def fit_preprocessor(student_preprocessor, family, X_student):
    """The student's preprocessing, fitted on its columns of the training rows."""
    if student_preprocessor is None:
        preprocessor = default_preprocessor(family, X_student)
    elif isinstance(student_preprocessor, str):
        preprocessor = FunctionTransformer()
    else:
        preprocessor = clone(student_preprocessor)
    return preprocessor.fit(X_student)
