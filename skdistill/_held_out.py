"""Teachers that never saw the selection rows, to label the checks' synthetic rows.

``augment="auto"`` and ``augment_ratio="auto"`` choose on selection rows taken
from the training rows, with MUNGE rows made from the other training rows. A
teacher fitted on every training row (by HPMDistiller, or prefit on them and
cross-fitted for that reason) has seen the selection rows: near each of them its
predictions carry that row's label, so the synthetic rows it labels teach the
student the selection rows' answers, and the check favours them whatever they
are worth on new rows. Such a teacher labels the check's synthetic rows through
a copy refitted on the rows the check trains on, as every teacher will be on
the rows it is served. Teachers that label the training rows as they are (prefit
and never fitted on them) are used as they are.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from ._parallel import estimated_cost, run_jobs
from ._teacher_outputs import cached_output, teachers_outputs
from ._teachers import fit_one


@dataclass
class HeldOutTeachers:
    """The fused teachers, those that saw the training rows refitted on some.

    Duck-types :class:`~skdistill._targets.FusedTeachers` for
    :func:`~skdistill._augment.synthetic_rows` (``label`` and ``task``).

    Attributes
    ----------
    fused : FusedTeachers
        The teachers, their fusion and the student's inputs.
    templates : list of estimators or None
        Per teacher, the unfitted estimator to refit (None: used as it is).
    X, y, sample_weight
        The rows the refitted copies learn from.
    n_jobs : int or None
        Workers for the copies' fits.
    """

    fused: object
    templates: list
    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None
    n_jobs: int | None = None
    _copies: list | None = field(default=None, repr=False)

    @property
    def task(self):
        return self.fused.task

    def label(self, X):
        """The student's inputs of rows ``X`` and their fused targets."""
        Z_gate = self.fused.gate_inputs(X)
        targets = self.fused.fusion.fuse(Z_gate, self.outputs(X))
        return self.fused.student_inputs(X, Z_gate), targets

    def outputs(self, X):
        """Every teacher's outputs on ``X``, shape (n_teachers, n_samples,
        n_outputs): the refitted copies' where there is a template.

        Kept in the process's cache, keyed by the templates' parameters and
        the rows they learn from: a refit with the same rows (a grid over the
        distiller's own parameters) fits no copy again.
        """
        task = self.fused.task
        data = (self.X, self.y, self.sample_weight, task.cache_key(), X)
        outputs = []
        for index, (teacher, template) in enumerate(
                zip(self.fused.teachers, self.templates, strict=True)):
            if template is None:
                outputs.append(cached_output(
                    None, "proba", [teacher], (X, task.cache_key()),
                    lambda t=teacher: teachers_outputs([t], X, task, self.n_jobs))[0])
            else:
                outputs.append(cached_output(
                    None, "held_out_proba", [template], data,
                    lambda i=index: teachers_outputs([self._copy(i)], X, task,
                                                     self.n_jobs))[0])
        return np.stack(outputs)

    def _copy(self, index):
        """The refitted copy of teacher ``index`` (all copies fitted at once,
        on first need)."""
        if self._copies is None:
            refit = [t for t, template in enumerate(self.templates)
                     if template is not None]
            n_rows, n_features = len(self.y), _n_features(self.X)
            jobs = [(clone(self.templates[t]), self.X, self.y, self.sample_weight,
                     self.fused.task) for t in refit]
            costs = [estimated_cost(self.templates[t], n_rows, n_features)
                     for t in refit]
            fitted = run_jobs(fit_one, jobs, costs, self.n_jobs)
            self._copies = [None] * len(self.templates)
            for t, copy in zip(refit, fitted, strict=True):
                self._copies[t] = copy
        return self._copies[index]


def held_out_labeller(fused, templates, X, y, sample_weight, n_jobs):
    """``labeller(rows)``: what labels MUNGE rows made from ``rows`` of ``X``.

    The fused teachers themselves for every row (``rows`` None or all of
    them) or when no teacher saw the rows; otherwise a
    :class:`HeldOutTeachers` refitted on those rows, one per distinct
    ``rows`` (a check that tries several ratios fits its copies once).

    Parameters
    ----------
    fused : FusedTeachers
    templates : list of estimators or None
        ``TeacherOutputs.templates``.
    X, y, sample_weight
        The training rows.
    n_jobs : int or None

    Returns
    -------
    callable
    """
    made = {}

    def labeller(rows=None):
        if rows is None or len(rows) == len(y) or all(t is None for t in templates):
            return fused
        key = np.asarray(rows).tobytes()
        if key not in made:
            made[key] = HeldOutTeachers(
                fused, templates, _safe_indexing(X, rows), y[rows],
                None if sample_weight is None else sample_weight[rows], n_jobs)
        return made[key]

    return labeller


def _n_features(X):
    return X.shape[1] if hasattr(X, "shape") and len(X.shape) > 1 else 1
