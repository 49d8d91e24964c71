"""Teachers that never saw the selection rows, to label the checks' synthetic rows.

``augment="auto"`` and ``augment_ratio="auto"`` choose on selection rows taken
from the training rows, with MUNGE rows made from the other training rows. A
teacher fitted on every training row (by HPMDistiller, or prefit on them and
cross-fitted for that reason) has seen the selection rows: near each of them its
predictions carry that row's label, so the synthetic rows it labels teach the
student the selection rows' answers, and the check favours them whatever they
are worth on new rows. Such a teacher labels the check's synthetic rows through
copies that never saw the selection rows: its cross-fitted copies, which leave
them out (the mean of the first :data:`LABELLING_COPIES`), or, when the fit has
none (its outputs came from a cache), a copy refitted on the rows the check
trains on. Teachers that label the training rows as they are (prefit and never
fitted on them) are used as they are.

The same copies label the report's validation rows for the student refitted on
every row (:func:`validation_labeller`): a prefit teacher fitted on every row of
``X`` has seen those too.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from ._parallel import estimated_cost, run_jobs
from ._teacher_outputs import cached_output, teachers_outputs
from ._teachers import fit_one

# The check's synthetic rows are labelled by the mean of this many of a
# teacher's cross-fitted copies (each never saw the selection rows), not all
# ``cv`` of them: labelling was a quarter of the fit's own work on hpc_data (five
# LightGBM copies predicting 3,840 rows). Medium suite, six seeds, against all
# five: accuracy level (-0.00 +/- 0.06 points), own work 0.75-0.94x
# (benchmarks/README, "Choosing between students against the labels and the
# teachers").
LABELLING_COPIES = 2


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
        The rows the refitted copies learn from (None where every teacher
        with a template has copies: nothing is refitted).
    n_jobs : int or None
        Workers for the copies' fits.
    copies : list of (list of estimators or None) or None
        Per teacher, fitted copies that never saw the selection rows: the mean
        of the first :data:`LABELLING_COPIES` labels the rows instead of a
        refitted copy.
    """

    fused: object
    templates: list
    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None
    n_jobs: int | None = None
    copies: list | None = None
    _refitted: list | None = field(default=None, repr=False)

    @property
    def task(self):
        return self.fused.task

    def label(self, X):
        """The student's inputs of rows ``X`` and their fused targets."""
        return self.fused.label(X, self.outputs(X))

    def outputs(self, X):
        """Every teacher's outputs on ``X``, shape (n_teachers, n_samples,
        n_outputs): the mean of its first :data:`LABELLING_COPIES` copies' or
        its refitted copy's where there is a template.

        A refitted copy's outputs are kept in the process's cache, keyed by
        the template's parameters and the rows it learns from: a refit with
        the same rows (a grid over the distiller's own parameters) fits no
        copy again. The copies' outputs are kept there too, keyed by their
        fitted state: a grid's candidates share a fold's copies
        (``PROCESS_COPIES``) and label the same rows with them.
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
            elif self.copies is not None and self.copies[index]:
                labelling = self.copies[index][:LABELLING_COPIES]
                outputs.append(cached_output(
                    None, "proba", labelling, (X, task.cache_key()),
                    lambda c=labelling: teachers_outputs(c, X, task, self.n_jobs)
                ).mean(axis=0))
            else:
                outputs.append(cached_output(
                    None, "held_out_proba", [template], data,
                    lambda i=index: teachers_outputs([self._refitted_copy(i)], X,
                                                     task, self.n_jobs))[0])
        return np.stack(outputs)

    def _refitted_copy(self, index):
        """The refitted copy of teacher ``index`` (those of every teacher
        without copies fitted at once, on first need)."""
        if self._refitted is None:
            refit = [t for t, template in enumerate(self.templates)
                     if template is not None
                     and not (self.copies is not None and self.copies[t])]
            n_rows, n_features = len(self.y), _n_features(self.X)
            jobs = [(clone(self.templates[t]), self.X, self.y, self.sample_weight,
                     self.fused.task) for t in refit]
            costs = [estimated_cost(self.templates[t], n_rows, n_features)
                     for t in refit]
            fitted = run_jobs(fit_one, jobs, costs, self.n_jobs)
            self._refitted = [None] * len(self.templates)
            for t, copy in zip(refit, fitted, strict=True):
                self._refitted[t] = copy
        return self._refitted[index]


def held_out_labeller(fused, templates, X, y, sample_weight, n_jobs, copies=None,
                      held_out=None):
    """``labeller(rows)``: what labels MUNGE rows made from ``rows`` of ``X``.

    The fused teachers themselves for every row (``rows`` None or all of
    them) or when no teacher saw the rows; otherwise a
    :class:`HeldOutTeachers` for those rows, one per distinct ``rows`` (a
    check that tries several ratios fits its copies once). It uses the
    teachers' ``copies`` when ``rows`` leave out all of the ``held_out`` rows
    none of them was fitted on, and refits a copy on ``rows`` otherwise.

    Parameters
    ----------
    fused : FusedTeachers
    templates : list of estimators or None
        ``TeacherOutputs.templates``.
    X, y, sample_weight
        The training rows.
    n_jobs : int or None
    copies : list of (list of estimators or None) or None
        ``TeacherOutputs.copies``.
    held_out : ndarray of int or None
        The rows no copy was fitted on.

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
            usable = (copies is not None and held_out is not None
                      and len(np.intersect1d(rows, held_out)) == 0)
            made[key] = HeldOutTeachers(
                fused, templates, _safe_indexing(X, rows), y[rows],
                None if sample_weight is None else sample_weight[rows], n_jobs,
                copies if usable else None)
        return made[key]

    return labeller


def validation_labeller(fused, templates, prefit, n_jobs, copies=None):
    """What labels the report's validation rows for the student refitted on
    every row (``final_rows="all"``), and what that label says.

    A teacher fitted here learned from the training rows alone: it labels the
    validation rows as it is, out of sample. A prefit teacher cross-fitted as
    fitted on the training rows (``prefit_teachers="auto"`` judged that it
    memorised them, or ``"cross_fit"``) was most likely fitted on the
    validation rows too (they come from the same ``X``): its copies, fitted on
    parts of the training rows only, label them instead (the mean of the
    first :data:`LABELLING_COPIES`, as for the checks' synthetic rows). A
    prefit teacher labelling its rows as it is (``"as_is"``, judged not to
    have memorised them, or its copies skipped or impossible) labels these as
    it is too; so do all of them when the copies were not kept (beyond
    :data:`~._augment.AUTO_MAX_ROWS` rows). The label says which.

    Parameters
    ----------
    fused : FusedTeachers
    templates : list of estimators or None
        ``TeacherOutputs.templates``.
    prefit : list of bool
        Per teacher, whether it was given fitted.
    n_jobs : int or None
    copies : list of (list of estimators or None) or None
        ``TeacherOutputs.copies``.

    Returns
    -------
    labeller : FusedTeachers or HeldOutTeachers
    label : str
        How the validation rows were labelled, for ``report_``.
    """
    cross_fitted = [template is not None and given_fitted
                    for template, given_fitted in zip(templates, prefit, strict=True)]
    as_they_are = [given_fitted and template is None
                   for template, given_fitted in zip(templates, prefit, strict=True)]
    usable = copies is not None and all(
        copies[t] for t, c in enumerate(cross_fitted) if c)
    labeller, parts = fused, []
    if any(cross_fitted) and usable:
        labeller = HeldOutTeachers(
            fused, [t if c else None for t, c in zip(templates, cross_fitted,
                                                     strict=True)],
            None, None, None, n_jobs, copies)
        parts.append("the prefit teachers cross-fitted as fitted on the training "
                     "rows through their copies, which never saw them")
    elif any(cross_fitted):
        parts.append("the prefit teachers cross-fitted as fitted on the training "
                     "rows as they are, their copies not kept: they likely saw "
                     "them")
    if any(as_they_are):
        parts.append(("the other" if any(cross_fitted) else "the")
                     + " prefit teachers as they are: they may have been fitted "
                     "on them")
    if not all(prefit):
        parts.append("the teachers fitted here, which never saw them")
    return labeller, "validation rows labelled by " + "; ".join(parts)


def _n_features(X):
    return X.shape[1] if hasattr(X, "shape") and len(X.shape) > 1 else 1
