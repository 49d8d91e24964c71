"""The shared orchestration of a distillation: ``fit`` as a handful of named steps.

:class:`BaseDistiller` validates, then calls each component's module in turn
(see ARCHITECTURE.md): the teachers' outputs, the fused targets, the
configuration, the augmentation, the student with its chain, the report. What is
specific to a task (the target, how rows are split, the default teacher) is
behind the hooks a subclass implements; ``HPMDistiller`` is the classification
one.
"""

import time
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from functools import partial
from numbers import Real

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _checks, _teachers
from ._augment import (
    AUTO_MAX_ROWS,
    FIXED_RATIO,
    STEP_BUDGET_RATIO,
    CheckFit,
    augmentation_check,
    ratio_check,
    ratio_ladder,
    step_capped,
    synthetic_rows,
)
from ._chain import (
    ChainStep,
    check_chain_fits_student,
    fit_student,
    scalable_capacity,
)
from ._configure import (
    Request,
    configure,
    distil_or_not,
    family_of,
    follows_schedules,
    runner_up,
    searched_evaluation,
    searched_scores,
)
from ._fingerprint import fingerprints_kept
from ._held_out import held_out_labeller, validation_labeller
from ._measure import check_serving_budget, experiment, measure, timed
from ._memory import as_memory
from ._parallel import available_cores, recording_to, worker_thread_limits
from ._progress import PhaseBar, logger
from ._ranker import meta_features
from ._served_latency import check_latency_measure
from ._shared_params import SHARED_CONSTRAINTS
from ._student_features import resolve_student_features, student_columns
from ._targets import fit_targets
from ._teacher_outputs import prefit_mode, teacher_outputs
from ._teacher_params import TeacherParams
from ._time_budget import TimeBudget
from ._transfer import (
    MIN_VALIDATION_PART,
    choice_rows,
    draw_seed,
    rows_with_validation,
    selection_rows,
    stratified_split,
    student_input_dtype,
    validation_selection_split,
    validation_splits,
)
from .students._torch_network import TorchNetworkState

# augment="auto" tries the search's runner-up with MUNGE rows on at least this
# many selection rows (measured at 398-750 training rows, 64-120 selection rows:
# 1.3-2.5x the fit time, accuracy level).
RUNNER_UP_MIN_SELECTION_ROWS = 200

_FITTED = ("classes_", "teachers_", "named_teachers_", "teacher_names_", "fusion_",
           "student_", "report_", "n_features_in_", "feature_names_in_",
           "student_features_", "_fused")


class BaseDistiller(TeacherParams, BaseEstimator):
    """The steps of a distillation shared by every task.

    Subclasses implement ``_check_target(X, y)`` (returns the validated target
    and the task, an object like ``_task.ClassificationTask`` that every step
    asks what the teachers' outputs are and how to score them),
    ``_set_task_attributes(task)`` (the fitted attributes of the task, such as
    ``classes_``) and ``_default_teacher(seed)``. The parameters both
    estimators take, and their constraints, are declared once
    (:mod:`._shared_params`); a subclass adds its own (``student``'s
    families, the classifier's temperature and chain).
    """

    _parameter_constraints: dict = SHARED_CONSTRAINTS
    # A named student's alpha="auto": the default alpha, or chosen between it
    # and 0 on the selection rows (a subclass turns it on; see HPMRegressor).
    _distil_or_not_for_named_students = False

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None):
        """Fit the teachers that need it, then distil them into the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows; given to the teachers exactly as they are.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the teachers fitted here and to the student.
        X_val : array-like or DataFrame of shape (n_val, n_features), default=None
            Rows the teachers never saw, for an honest selection and report
            (as ``HistGradientBoostingClassifier.fit`` takes ``X_val``); ``X``
            then all trains. A stratified half of them (labelled by the fused
            teachers) is where the configuration search, ``augment="auto"``
            and the chain search choose, instead of a fifth of the training
            rows; the other half measures ``report_``
            (``report_.details["selection"]`` gives both counts). With fewer
            than 50 rows in either half, all of ``X_val`` measures the report
            and the choice is made inside ``X``, as without ``X_val``: on a
            fifth of its rows, held out of every cross-fitted copy of a
            teacher (a note in ``report_.details["selection"]`` says so).
            Nothing trains on them.
        y_val : array-like of shape (n_val,), default=None
            Their targets; required with ``X_val``.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        try:
            memory = as_memory(self.memory)
            start = time.perf_counter()
            with (recording_to(memory), fingerprints_kept(), self._thread_limits(),
                  PhaseBar(self.verbose, self._phases(X_val is not None)) as bar):
                self._fit(X, y, sample_weight, memory, bar, X_val, y_val)
            logger.info("%s fitted in %.2f s", type(self).__name__,
                        time.perf_counter() - start)
            return self
        except BaseException:
            self._forget_fit()
            raise

    def _thread_limits(self):
        """With ``n_jobs=None``, thread pools capped to the cores the machine's
        other work leaves free (:func:`~skdistill._parallel.available_cores`)."""
        cores = available_cores()
        if self.n_jobs is not None or cores >= cpu_count():
            return nullcontext()
        logger.info("other work on the machine: this fit uses %d thread(s) of %d "
                    "cores", cores, cpu_count())
        return worker_thread_limits(cores)

    def _fit(self, X, y, sample_weight, memory, bar, X_val=None, y_val=None):
        budget = TimeBudget(self.time_limit)
        X, y, sample_weight, task = self._validate_training_data(
            X, y, sample_weight)
        given_valid = self._validate_validation_rows(X_val, y_val, task)
        check_latency_measure(self.latency_measure, self.student)
        rng = check_random_state(self.random_state)
        names, teachers = self._checked_teachers(X, task, draw_seed(rng))
        train, valid = self._report_split(task, y, rng, given_valid is not None)
        X_train, y_train = _safe_indexing(X, train), y[train]
        w_train = None if sample_weight is None else sample_weight[train]
        timings = {}
        clock = partial(timed, timings, progress=bar)
        teacher_seed, fusion_seed = draw_seed(rng), draw_seed(rng)
        seed = held_out = None
        # X_val too small to split: the choice is made in X, as without it.
        chooses_on_x_val = (given_valid is not None
                            and validation_splits(task.strata(given_valid[1])))
        if self._chooses_on_training_rows(chooses_on_x_val):
            seed = draw_seed(rng)
            held_out = choice_rows(task.strata(y_train), seed)
        prefit = [_teachers.is_fitted(t) for t in teachers]
        outputs = self._teacher_outputs(teachers, names, X_train, y_train, w_train,
                                        task, teacher_seed, memory, clock, held_out,
                                        budget, given_valid is None and any(prefit))
        teacher_rate = _teachers_seconds_per_row(timings, len(train))
        n_valid = len(valid if given_valid is None else given_valid[1])
        # The report runs the teachers on the validation rows (outputs, latency).
        budget.reserve(3.0 * teacher_rate * n_valid + 0.25)
        X_student = self._student_columns(X_train)
        with clock("fusion"):
            fused, transfer = self._fit_targets(X_train, X_student, y_train, w_train,
                                                outputs, task, fusion_seed,
                                                held_out)
            transfer, given_valid, selection = _choose_on_validation(
                transfer, given_valid, fused, task, rng)
        if held_out is not None:
            selection = {**(selection or {}), "source": "X",
                         "n_selection": len(held_out),
                         "held_out_of_teacher_copies": True}
        labeller = held_out_labeller(fused, outputs.templates, X_train, y_train,
                                     w_train, self.n_jobs, outputs.copies, held_out)
        configuration, transfer, meta, seed, check_fit = self._configure_and_augment(
            X_train, X_student, transfer, fused, outputs, memory, names, rng,
            seed, clock, (budget, teacher_rate), labeller)
        # Once the student is known, its inputs in the dtype its library
        # computes in (float32 for trees, XGBoost and the MLPs): converted once,
        # not by each fit, and the float64 ones freed (at 1M rows, 190 MB).
        transfer = transfer.astype(student_input_dtype(configuration.student))
        report_fit = self._report_student_from_check(
            check_fit, given_valid, transfer, len(valid), budget)
        with clock("student"):
            chain, chain_search = (report_fit.chain, {}) if report_fit else fit_student(
                configuration, transfer, outputs.size.capacity,
                self._chain_within(budget, configuration, len(transfer.y)),
                self.chain_min_improvement, seed, self.n_jobs)
        student_rate = (report_fit.seconds_per_row if report_fit
                        else timings["student"] / max(1, len(transfer.y)))
        self._set_fitted(task, names, fused, chain[-1].model)
        X_valid, y_valid = (given_valid if given_valid is not None
                            else (_safe_indexing(X, valid), y[valid]))
        valid_labeller, valid_label = validation_labeller(
            fused, outputs.templates, prefit, self.n_jobs, outputs.copies)
        # The report's own time is logged, not reported: it is measured in it.
        with timed({}, "report", progress=bar):
            self.report_ = self._report(
                X_valid, y_valid, fused, names, outputs, timings, configuration,
                chain, chain_search, transfer, memory, budget, selection,
                None if given_valid is not None or valid_labeller is fused
                else valid_labeller)
        final_rows = self._final_rows_skipped(given_valid is not None, transfer,
                                              len(valid), budget, student_rate)
        if final_rows is None:
            with clock("final_rows"):
                all_rows = self._final_rows_set(X, y, sample_weight, valid, fused,
                                                transfer, rng, valid_labeller)
                # The refit's rows hold the training rows: the transfer set's
                # own inputs (at 1M rows, 360 MB) need not stay beside them.
                del transfer
                final_rows = self._refit_on_every_row(
                    all_rows, fused, configuration, len(chain) - 1,
                    outputs.size.capacity, seed, valid_label)
            final_rows["refit_seconds"] = timings["final_rows"]
        if report_fit is not None:
            final_rows["report_student"] = (
                "the augmentation check's fit of its choice (or the search's "
                "same fit), on the training rows less the validation rows and "
                "the selection rows")
        self.report_.details["final_rows"] = final_rows
        X_valid_student = self._student_columns(X_valid)
        if final_rows.get("refit"):
            self.report_.details["prediction_spread"]["served_student"] = \
                task.spread(self.student_.predict(X_valid_student))
        _checks.warn_if_in_sample(self.report_, prefit, given_valid is not None)
        _checks.warn_if_collapsed(self.report_, task)
        self._record(memory, meta, X_train, task)
        check_serving_budget(self.student_, self.report_, X_valid_student, task,
                             self.max_student_bytes, self.max_latency_ms,
                             self.latency_measure)
        return self

    def _report_student_from_check(self, check_fit, given_valid, transfer,
                                   n_valid, budget):
        """The augmentation check's fit (``check_fit``), when it stands for
        the report's student; else None (the report's student is fitted).

        Only where the served student will be refitted on every row
        (``final_rows="all"``, no ``X_val``, and the time left pays for the
        refit at the check's rate) and without a chain: the report then
        measures a student fitted on the training rows less the selection
        rows, as the check fitted it, instead of fitting the same
        configuration once more on the training rows only to replace it. The
        served student is the same either way.
        """
        if (check_fit is None or self.final_rows != "all"
                or given_valid is not None or self.chain is not False
                or self._final_rows_skipped(False, transfer, n_valid, budget,
                                            check_fit.seconds_per_row, quiet=True)):
            return None
        return check_fit

    def _final_rows_skipped(self, validation_given, transfer, n_valid, budget,
                            student_rate, quiet=False):
        """What ``report_.details["final_rows"]`` says when the served student
        is not refitted on every row (``final_rows="train"``, ``X_val`` given,
        or the time left cannot pay the refit at ``student_rate`` seconds per
        row); None when it is. ``quiet``: a forecast, recorded nowhere."""
        if self.final_rows == "train":
            return {"final_rows": "train", "refit": False}
        if validation_given:
            return {"final_rows": "all", "refit": False, "reason": (
                "X_val given: every row of X trained the student; X_val's rows "
                "only measure the report")}
        n_rows = len(transfer.y) + n_valid * (1 + transfer.n_synthetic
                                              / max(1, _real_rows(transfer)))
        if not budget.allows(student_rate * n_rows):
            if not quiet:
                budget.cut("final_rows='all' skipped (the student of the report "
                           "serves)")
            return {"final_rows": "all", "refit": False, "reason": "time_limit"}
        return None

    def _final_rows_set(self, X, y, sample_weight, valid, fused, transfer, rng,
                        valid_labeller):
        """``final_rows="all"``'s transfer set: the real training rows, the
        validation rows labelled by ``valid_labeller``
        (:func:`~._held_out.validation_labeller`) and MUNGE rows of every row,
        labelled by the fused teachers, at the transfer set's ratio, in the
        transfer set's dtype (the student's input dtype since the
        configuration)."""
        all_rows = rows_with_validation(
            transfer, valid_labeller, _safe_indexing(X, valid), y[valid],
            None if sample_weight is None else sample_weight[valid])
        ratio = transfer.n_synthetic / max(1, _real_rows(transfer))
        if ratio > 0:
            all_rows = all_rows.extended(*synthetic_rows(X, ratio, fused, rng))
        return all_rows

    def _refit_on_every_row(self, all_rows, fused, configuration, n_assistants,
                            teacher_capacity, seed, valid_label):
        """``final_rows="all"``: the served student refitted on ``all_rows``
        with the same configuration, number of assistants and seed; what
        ``report_.details["final_rows"]`` shows (less the seconds), with
        ``valid_label`` saying how the validation rows were labelled."""
        steps, _ = fit_student(configuration, all_rows, teacher_capacity,
                               n_assistants, self.chain_min_improvement, seed,
                               self.n_jobs)
        self.student_ = Pipeline([("preprocess", fused.preprocessor),
                                  ("student", steps[-1].model)])
        return {"final_rows": "all", "refit": True,
                "n_real_rows": _real_rows(all_rows),
                "n_synthetic_rows": all_rows.n_synthetic,
                "report": ("measured on a student fitted without the validation "
                           "rows; the served student_ was refitted on every row "
                           f"({valid_label}), same configuration, chain and seed")}

    def _report_split(self, task, y, rng, validation_given):
        """The training and validation rows of the report.

        Drawn even with given validation rows, so that later seeds stay the
        same; then every row trains.
        """
        train, valid = stratified_split(task.strata(y), self.validation_fraction,
                                        rng)
        if validation_given:
            train = np.arange(len(y))
        _checks.warn_if_cv_capped(task.strata(y[train]), self.cv)
        return train, valid

    def _teacher_outputs(self, teachers, names, X_train, y_train, w_train, task,
                         seed, memory, clock, held_out=None, budget=None,
                         prefit_saw_validation=False):
        """The fitted teachers and their outputs on the training rows, the
        ``held_out`` rows left out of every cross-fitted copy (the prefit
        teachers' copies only when ``budget`` leaves time for them).

        The copies are kept for the checks' synthetic rows, and, on at most
        :data:`~._augment.AUTO_MAX_ROWS` rows where prefit teachers may be
        cross-fitted, for the validation rows (held out of ``X``, which prefit
        teachers may have seen: ``prefit_saw_validation``) that a student
        refitted on every row learns from
        (:func:`~._held_out.validation_labeller`). Copies wanted but not
        in the process (outputs from a cache) are fitted again, so that what
        they label does not depend on what the process fitted before."""
        gate_learns = len(teachers) > 1 and self.fusion != "mean"
        prefit_cross_fitted = prefit_saw_validation and prefit_mode(
            self.soft_targets, gate_learns, self.prefit_teachers) != "as_is"
        return teacher_outputs(
            teachers, X_train, y_train, w_train, task, cv=self.cv,
            soft_targets=self.soft_targets, prefit_teachers=self.prefit_teachers,
            names=names, gate_learns=gate_learns,
            random_state=seed, n_jobs=self.n_jobs, memory=memory, timed=clock,
            held_out=held_out, budget=budget,
            keep_copies=(held_out is not None
                         and self._checks_munge_rows(len(y_train))) or (
                prefit_cross_fitted and self.final_rows == "all"
                and len(y_train) <= AUTO_MAX_ROWS))

    def _checks_munge_rows(self, n_rows):
        """Whether ``augment="auto"`` or ``augment_ratio="auto"`` will try
        MUNGE rows made from ``n_rows`` training rows: the teachers' copies,
        which label them, are kept only then (above
        :data:`~._augment.AUTO_MAX_ROWS` rows ``augment="auto"`` tries none,
        and a forest's copies there can be large)."""
        if self.augment_ratio == "auto" and self._augment_after_configuration():
            return True
        return self.augment == "auto" and n_rows <= AUTO_MAX_ROWS

    def _chooses_on_training_rows(self, chooses_on_x_val):
        """Whether this fit chooses on some of its training rows (the
        selection split of the search and the checks,
        :func:`~._transfer.choice_rows`): those rows are then held out of
        every cross-fitted copy of a teacher. ``chooses_on_x_val``: ``X_val``
        was given and is large enough to split
        (:func:`~._transfer.validation_splits`).

        A copy fitted on a selection row labels the rows near it with that
        row's answer: a student trained on those targets would score on the
        selection rows as it never would on new rows, and the choices made
        there would favour the teachers' targets.
        """
        return not chooses_on_x_val and (
            self.student == "auto" or self._checks_distillation()
            or self._augment_after_configuration() or self.chain is True
            or self.chain == "auto")

    def _report(self, X_valid, y_valid, fused, names, outputs, timings,
                configuration, chain, chain_search, transfer, memory, budget,
                selection=None, out_of_sample=None):
        """The report on the validation rows (see :func:`_measure.measure`);
        ``selection`` (a dict, with ``X_val``) says where the choice was made;
        ``out_of_sample`` (a :class:`~._held_out.HeldOutTeachers`) labels the
        validation rows without the prefit teachers that memorised them."""
        extra = {} if selection is None else {"selection": selection}
        return measure(
            X_valid, y_valid, fused, self.student_, teacher_names=names,
            teacher_size=outputs.size, timings=timings,
            configuration=configuration, chain=chain, chain_search=chain_search,
            n_synthetic=transfer.n_synthetic,
            details={"fusion": self.fusion, "soft_targets": self.soft_targets,
                     "prefit_teachers": self.prefit_teachers,
                     **({"prefit_checks": outputs.prefit_checks}
                        if outputs.prefit_checks else {}),
                     "student_features": self.student_features_.tolist(),
                     "time_limit": budget.summary(),
                     "latency_measure": self.latency_measure, **extra},
            memory=memory, out_of_sample=out_of_sample)

    def _chain_within(self, budget, configuration, n_rows):
        """``chain``, less the chain search when the time left cannot pay it."""
        if self.chain not in (True, "auto") or budget.allows(
                _student_seconds(configuration, n_rows, factor=3)):
            return self.chain
        budget.cut("chain search skipped (the student alone)")
        return False

    def _fit_targets(self, X_train, X_student, y_train, w_train, outputs, task,
                     seed, held_out=None):
        """The fused teachers (learned on the rows not ``held_out``) and the
        transfer set of the training rows."""
        return fit_targets(
            X_train, X_student, y_train, w_train, outputs, task=task,
            fusion=self.fusion, student_preprocessor=self.student_preprocessor,
            family="mlp" if self.student == "auto" else family_of(self.student),
            student_columns=self._student_columns_picker(), seed=seed,
            n_jobs=self.n_jobs, held_out=held_out)

    def _phases(self, validation_given=False):
        """The phases a fit goes through, in order (the bar's steps)."""
        fixed_augment = self._fixed_augment()
        return (["teachers", "soft_targets", "fusion"]
                + ["augment"] * fixed_augment
                + ["configuration"] * (self.student == "auto")
                + ["distillation_check"] * self._checks_distillation()
                + ["augment"] * (self._augment_after_configuration())
                + ["student", "report"]
                + ["final_rows"] * (self.final_rows == "all" and not validation_given))

    def _checks_distillation(self):
        """Whether a named student's ``alpha="auto"`` is chosen between the
        default alpha and 0 (:func:`~._configure.distil_or_not`)."""
        return (self._distil_or_not_for_named_students and self.student != "auto"
                and self.alpha == "auto")

    def _fixed_augment(self):
        """Whether synthetic rows of a fixed ratio extend the transfer set
        before the configuration."""
        return self.augment is not None and self.augment != "auto" and not (
            self.augment == "munge" and self.augment_ratio == "auto")

    def _augment_after_configuration(self):
        """Whether the configured student decides on the synthetic rows
        (``augment="auto"`` or ``augment_ratio="auto"``)."""
        return self.augment == "auto" or (self.augment == "munge"
                                          and self.augment_ratio == "auto")

    def _configure_and_augment(self, X_train, X_student, transfer, fused, outputs,
                               memory, names, rng, seed, clock, time_budget,
                               labeller):
        """The configuration (component i) and the synthetic rows, in their order.

        A fixed ``augment`` extends the transfer set before the configuration
        (which then chooses on it); ``"auto"`` decides after it, with the
        configured student. ``seed`` is the student's seed, also the selection
        splits' (None: drawn here). ``clock(phase)`` times a phase (see
        :func:`~skdistill._measure.timed`); ``time_budget``, the ``TimeBudget``
        and the teachers' seconds per row, cuts the search and the
        augmentation check when time runs out. ``labeller(rows)`` labels the
        MUNGE rows made from those training rows
        (:func:`~skdistill._held_out.held_out_labeller`: the checks' rows by
        teachers that never saw the selection rows).

        Returns
        -------
        configuration : Configuration
        transfer : TransferSet
            With the synthetic rows, if any.
        meta : dict or None
            The task's meta-features (when configured or recorded).
        seed : int
            The student's seed.
        check_fit : CheckFit or None
            The augmentation check's fit of the configured student with its
            choice (see :func:`~skdistill._augment.augmentation_check`), when
            it made one.
        """
        budget, teacher_rate = time_budget
        make_rows = partial(self._synthetic_rows, X_train, labeller, rng)
        if self._fixed_augment():
            with clock("augment"):
                transfer = transfer.extended(*make_rows())
        if seed is None:
            seed = draw_seed(rng)
        meta = None
        if self.student == "auto" or memory is not None:
            trained = transfer.trainable()
            meta = meta_features(X_student, trained.y, trained.Z.shape[1],
                                 outputs.gate, transfer.task)
            meta["n_rows"] = len(trained.y)
        with clock("configuration") if self.student == "auto" \
                else nullcontext(), _quiet_trial_fits():
            configuration = configure(
                Request.from_params(self.get_params(deep=False)), transfer,
                outputs.size, fused.preprocessor, X_student, meta, memory, names,
                seed, time_budget=budget)
        known = None
        if self._checks_distillation():
            # A named student: no search measured its fits to estimate the two
            # from, so they run while the limit's first share is left.
            if budget.allows(None):
                with clock("distillation_check"), _quiet_trial_fits():
                    configuration, known = distil_or_not(transfer, configuration,
                                                         seed, self.n_jobs)
            else:
                budget.cut("distil-or-not check skipped (the default alpha)")
        if self.augment_ratio == "auto" and self._augment_after_configuration():
            if isinstance(configuration.student, TorchNetworkState):
                return (*self._choose_ratio(configuration, transfer, make_rows,
                                            seed, clock, time_budget),
                        meta, seed, None)
            # A tree, booster or linear student takes the fixed ratio
            # (make_rows' default under "auto": _munge_ratio).
            if self.augment == "munge":
                with clock("augment"):
                    return (configuration, transfer.extended(*make_rows()), meta,
                            seed, None)
        if self.augment != "auto":
            return configuration, transfer, meta, seed, None
        known_fit = None
        if known is None:
            # The search's own fit of the winner, when it trained on the
            # check's rows.
            searched = searched_evaluation(configuration,
                                           len(selection_rows(transfer, seed)[0]))
            if searched is not None:
                known = searched.accuracy, searched.score
                known_fit = _searched_fit(searched, transfer)
        if not budget.allows(_augmentation_seconds(
                configuration, len(transfer.y), self._munge_ratio(), teacher_rate,
                reused=known is not None)):
            budget.cut("augmentation check skipped (no synthetic rows)")
            return configuration, transfer, meta, seed, None
        with clock("augment"), _quiet_trial_fits():
            make_check_rows = _made_once(make_rows)
            augment, check, check_fit = augmentation_check(
                transfer, configuration.student, configuration.temperature,
                configuration.alpha, make_check_rows, seed, self.n_jobs,
                known_without=known, known_fit=known_fit)
            configuration.details["augmentation_check"] = check
            if self.student == "auto":
                configuration, augment, check_fit = self._runner_up_with_munge(
                    configuration, augment, check_fit, transfer, make_check_rows,
                    seed, time_budget)
            if augment:
                transfer = transfer.extended(*make_rows())
        return configuration, transfer, meta, seed, check_fit

    def _runner_up_with_munge(self, configuration, augment, check_fit, transfer,
                              make_rows, seed, time_budget):
        """``augment="auto"`` after a search: the search's best candidate of
        another family (:func:`~._configure.runner_up`) also tried with the
        same MUNGE rows; it replaces the winner when its selection score
        (``task.selection_score``, which ranks the race) is strictly higher
        with them than the winner's with or without them
        (``augmentation_check["runner_up"]``).

        Not tried on fewer than :data:`RUNNER_UP_MIN_SELECTION_ROWS`
        selection rows, where a strict win is a row or two and the fit (an
        MLP on the MUNGE rows) would cost as much again as the whole fit; nor
        when the winner's check made no MUNGE fit (it was already more
        accurate than the teachers). A runner-up whose own check stops there
        does not replace the winner.

        Returns
        -------
        configuration : Configuration
        augment : bool
        check_fit : CheckFit or None
            ``check_fit``, or the runner-up's fit when it replaces the winner.
        """
        budget, teacher_rate = time_budget
        check = configuration.details["augmentation_check"]
        training, select = selection_rows(transfer, seed)
        if len(select) < RUNNER_UP_MIN_SELECTION_ROWS:
            return configuration, augment, check_fit
        runner = runner_up(configuration, Request.from_params(
            self.get_params(deep=False)), seed)
        if runner is None or "accuracy_munge" not in check:
            return configuration, augment, check_fit
        known = searched_scores(runner, len(training))
        if not budget.allows(_augmentation_seconds(
                runner, len(transfer.y), self._munge_ratio(), teacher_rate,
                reused=known is not None)):
            budget.cut("the runner-up's augmentation check skipped")
            return configuration, augment, check_fit
        _, runner_check, runner_fit = augmentation_check(
            transfer, runner.student, runner.temperature, runner.alpha, make_rows,
            seed, self.n_jobs, known_without=known)
        # Two students compared: on the selection score, as in the race. A
        # runner-up already beyond the teachers made no MUNGE fit: nothing to
        # compare with them.
        best = max(check["selection_score_without"], check["selection_score_munge"])
        replaces = ("selection_score_munge" in runner_check
                    and runner_check["selection_score_munge"] > best)
        check["runner_up"] = {"config": runner.details["config"],
                              **runner_check, "replaces_winner": replaces}
        if not replaces:
            return configuration, augment, check_fit
        return replace(runner, details={
            **runner.details, "augmentation_check": check,
            "search_winner": configuration.details["config"]}), True, (
                runner_fit if runner_check["chosen"] == "munge" else None)

    def _choose_ratio(self, configuration, transfer, make_rows, seed, clock,
                      time_budget):
        """``augment_ratio="auto"``: the ratio chosen on the selection rows
        (:func:`~skdistill._augment.ratio_check`), its synthetic rows, and
        the configured student with its epochs capped for them.

        Skipped (the smallest ratio of the ladder with ``augment="munge"``,
        none with ``"auto"``) when the time left cannot pay the check.
        """
        budget, teacher_rate = time_budget
        include_none = self.augment == "auto"
        n_real = len(transfer.y)
        ladder = ratio_ladder(n_real)
        if not budget.allows(_ratio_seconds(configuration, n_real, ladder,
                                            teacher_rate)):
            ratio = None if include_none else ladder[0]
            budget.cut(f"augment_ratio check skipped (ratio {ratio})")
            check = {"chosen": ratio, "curve": {}, "reason": "time_limit"}
        else:
            with clock("augment"), _quiet_trial_fits():
                ratio, check = ratio_check(
                    transfer, configuration.student, configuration.temperature,
                    configuration.alpha, make_rows, seed, self.n_jobs,
                    include_none)
        configuration.details["augment_ratio_check"] = check
        if ratio is None:
            return configuration, transfer
        transfer = transfer.extended(*make_rows(None, ratio))
        student = step_capped(configuration.student, n_real, len(transfer.y))
        return replace(configuration, student=student), transfer

    def _synthetic_rows(self, X_train, labeller, rng, rows=None, ratio=None):
        """MUNGE rows made from the training rows (or those ``rows`` of them),
        at ``ratio`` (default: the parameters'), labelled by ``labeller(rows)``."""
        source = X_train if rows is None else _safe_indexing(X_train, rows)
        if ratio is None:
            ratio = (self._munge_ratio() if self.augment in ("munge", "auto")
                     else self.augment)
        return synthetic_rows(source, ratio, labeller(rows), rng)

    def _munge_ratio(self):
        """``augment_ratio``, or under ``"auto"`` the ratio a student without
        the ladder takes (:data:`~._augment.FIXED_RATIO`)."""
        return FIXED_RATIO if self.augment_ratio == "auto" else self.augment_ratio

    def _set_fitted(self, task, names, fused, model):
        self._set_task_attributes(task)
        self.teachers_ = fused.teachers
        self.teacher_names_ = np.asarray(names, dtype=object)
        self.named_teachers_ = Bunch(**dict(zip(names, fused.teachers, strict=True)))
        self.fusion_ = fused.fusion
        self._fused = fused
        self.student_ = Pipeline([("preprocess", fused.preprocessor),
                                  ("student", model)])

    def _record(self, memory, meta, X_train, task):
        """Keep the fit in the optimization memory."""
        if memory is None:
            return
        memory.record(experiment(
            self.report_, self.student_[-1], meta, self.get_params(deep=False),
            _num_samples(X_train), self.n_features_in_, task.n_outputs))

    def __sklearn_clone__(self):
        _checks.warn_if_clone_unfits(self.teachers)
        return super().__sklearn_clone__()

    def teacher_weights(self, X):
        """Per-sample weight of each teacher in the fused targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to weigh the teachers on.

        Returns
        -------
        ndarray of shape (n_samples, n_teachers)
            Rows sum to one; columns follow ``teacher_names_``.
        """
        X = self._validate_input(X)
        fused = self._fused_teachers()
        return self.fusion_.weights(fused.gate_inputs(X), fused.outputs(X))

    def _fused_teachers(self):
        """The fitted teachers and their fusion, run with the current ``n_jobs``."""
        return replace(self._fused, n_jobs=self.n_jobs)

    def _validate_training_data(self, X, y, sample_weight):
        """X, y, sample_weight and the task, checked; the student's columns set."""
        X = self._validate_input(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        y, task = self._check_target(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X,
                                                 ensure_non_negative=True)
        self.student_features_ = resolve_student_features(
            self.student_features, self.n_features_in_,
            getattr(self, "feature_names_in_", None))
        return X, y, sample_weight, task

    def _validate_validation_rows(self, X_val, y_val, task):
        """``(X_val, y_val)`` checked against the training data, or None."""
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together; got only "
                             f"{'X_val' if y_val is None else 'y_val'}.")
        X_val = self._validate_input(X_val, check_fitted=False)
        y_val = column_or_1d(y_val)
        check_consistent_length(X_val, y_val)
        classes = getattr(task, "classes", None)
        unknown = ([] if classes is None
                   else np.setdiff1d(np.unique(y_val), classes))
        if len(unknown):
            raise ValueError(f"y_val has labels that y lacks: {unknown.tolist()}.")
        return X_val, y_val

    def _checked_teachers(self, X, task, seed):
        """The teachers as names and estimators, checked against the task and X.

        The student's parameters are checked here too: every error a fit can
        know of before the teachers are fitted comes before that work.
        """
        _checks.check_student(self.student, self.device)
        pairs = _teachers.named_teachers(self.teachers, seed,
                                         default=self._default_teacher)
        names = [name for name, _ in pairs]
        teachers = [teacher for _, teacher in pairs]
        task.check_teachers(teachers, names)
        if self.teachers is None:
            _checks.check_default_teacher_columns(X)
        _checks.check_torch_teachers(names, teachers, X, task.n_outputs)
        self._check_temperature_fits_student()
        check_chain_fits_student(self.chain, self.student,
                                 task.student_families)
        return names, teachers

    def _check_temperature_fits_student(self):
        if isinstance(self.temperature, Real) or self.temperature == "auto":
            return
        if not follows_schedules(self.student):
            raise ValueError(
                f"temperature={self.temperature!r} is a schedule over epochs or "
                f"boosting rounds, which only MLPStudent, LGBMStudent and "
                f"XGBStudent follow; the student {self.student!r} takes a number."
            )

    def _validate_input(self, X, *, reset=False, check_fitted=True):
        """Check X: DataFrames pass untouched to the teachers."""
        if not reset and check_fitted:
            check_is_fitted(self)
        if hasattr(X, "columns"):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a "
                    f"minimum of 1 is required by {type(self).__name__}.")
        else:
            X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan",
                              ensure_min_samples=1, accept_sparse=True)
            if sp.issparse(X):
                # Tabular rows (a one-hot encoded pipeline's output): the
                # student's preprocessing, MUNGE and the gate read dense rows.
                X = X.toarray()
        _reject_infinities(X)
        return X

    def _student_columns_picker(self):
        """A picklable function giving the student's columns of validated rows."""
        return partial(student_columns, student_features=self.student_features_,
                       feature_names=getattr(self, "feature_names_in_", None))

    def _student_columns(self, X):
        """The columns of validated rows ``X`` that the student takes."""
        return self._student_columns_picker()(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # What the default teachers and the student's default preprocessing
        # read: missing values, pandas category and string columns, and sparse
        # matrices (made dense: the student's rows are dense).
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    def _forget_fit(self):
        for name in _FITTED:
            self.__dict__.pop(name, None)


@contextmanager
def _quiet_trial_fits():
    """Silence the ConvergenceWarning of the search's trial fits.

    Candidates train on short budgets by design; the final student's fit
    (``fit_student``) still warns.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


def _made_once(make_rows):
    """``make_rows`` that makes the rows of each ``(rows, ratio)`` once: two
    students checked with MUNGE rows made from the same rows see the same ones."""
    made = {}

    def make_check_rows(rows=None, ratio=None):
        key = (None if rows is None else np.asarray(rows).tobytes(), ratio)
        if key not in made:
            made[key] = make_rows(rows, ratio)
        return made[key]

    return make_check_rows


def _choose_on_validation(transfer, given_valid, fused, task, rng):
    """With ``X_val``: half of it chooses, the other half measures the report.

    The choosing rows (a stratified half, see
    :func:`~._transfer.validation_selection_split`), labelled by the fused
    teachers, join the transfer set as its selection rows
    (:meth:`~._transfer.TransferSet.with_selection`): the configuration
    search, ``augment="auto"`` and the chain search score on them, nothing
    trains on them. Without ``X_val`` nothing changes and no random number is
    drawn.

    Returns
    -------
    transfer : TransferSet
    given_valid : (X_val, y_val) or None
        The rows that measure the report.
    selection : dict or None
        For ``report_.details["selection"]``.
    """
    if given_valid is None:
        return transfer, None, None
    X_val, y_val = given_valid
    select, report = validation_selection_split(task.strata(y_val), rng)
    if select is None:
        return transfer, given_valid, {
            "source": "X", "n_report": len(y_val),
            "note": f"X_val has {len(y_val)} rows, too few to split (at least "
                    f"{MIN_VALIDATION_PART} per part): the choice was made on "
                    "a fifth of the training rows, X_val measures the report"}
    Z, targets = fused.label(_safe_indexing(X_val, select))
    transfer = transfer.with_selection(Z, y_val[select], targets)
    return transfer, (_safe_indexing(X_val, report), y_val[report]), {
        "source": "X_val", "n_selection": len(select), "n_report": len(report)}


def _reject_infinities(X):
    if hasattr(X, "select_dtypes"):
        values = X.select_dtypes(include="number").to_numpy(dtype=np.float64,
                                                             na_value=np.nan)
    else:
        values = X
    if np.isinf(values).any():
        raise ValueError("Input X contains infinity; replace it before fitting "
                         "(missing values may be NaN where the teachers accept it).")


def _student_seconds(configuration, n_rows, factor=1.0):
    """Expected seconds of fitting the configured student on ``factor`` times
    ``n_rows`` rows, at the rate per row the search measured for it on the most
    rows (the slowest candidate's there when it was not measured); None
    without a search."""
    evaluations = configuration.evaluations
    if not evaluations:
        return None
    own = [e for e in evaluations
           if e.candidate.as_dict() == configuration.details.get("config")]
    known = own or evaluations
    most_rows = max(e.n_rows for e in known)
    per_row = max(e.fit_seconds / e.n_rows for e in known if e.n_rows == most_rows)
    return factor * per_row * n_rows


def _searched_fit(evaluation, transfer):
    """The search's fit of an :class:`~._halving.Evaluation` as the
    augmentation check's :class:`~._augment.CheckFit`; None without its model."""
    if evaluation.model is None:
        return None
    capacity = scalable_capacity(evaluation.model, transfer.Z.shape[1],
                                 transfer.targets.shape[1])
    return CheckFit([ChainStep(evaluation.model, capacity, evaluation.fit_seconds)],
                    evaluation.n_rows)


def _real_rows(transfer):
    """Number of real (not synthetic) rows in a transfer set."""
    return len(transfer.y) - transfer.n_synthetic


def _teachers_seconds_per_row(timings, n_train):
    """The teachers' seconds per row labelled: their run on the training rows
    (a fifth of their fitting's when their outputs there came from the
    cross-fitting)."""
    predicting = timings.get("soft_targets", 0.0)
    if predicting < 0.01:
        predicting = 0.2 * timings.get("teachers", 0.0)
    return predicting / max(n_train, 1)


def _ratio_seconds(configuration, n_rows, ladder, teacher_rate):
    """Expected seconds of ``augment_ratio="auto"``'s check and of its
    outcome: the largest ratio's rows labelled once, a fit per ratio (and one
    without), then the largest ratio's rows for the final student; None
    without a search."""
    fits = _student_seconds(
        configuration, n_rows,
        factor=0.8 * (1 + sum(min(1 + r, 1 + STEP_BUDGET_RATIO) for r in ladder))
        + 1 + STEP_BUDGET_RATIO)
    if fits is None:
        return None
    return fits + 1.8 * ladder[-1] * n_rows * teacher_rate


def _augmentation_seconds(configuration, n_rows, ratio, teacher_rate,
                          reused=False):
    """Expected seconds of the augmentation check and of its outcome: MUNGE
    rows made from four fifths of the rows and labelled by the teachers, the
    student fitted on those rows without (unless the search's fit is
    ``reused``) and with them, then the final student's synthetic rows; None
    without a search."""
    fits = _student_seconds(configuration, n_rows,
                            factor=0.8 * (not reused) + 1.8 * (1 + ratio))
    if fits is None:
        return None
    return fits + 1.8 * ratio * n_rows * teacher_rate
