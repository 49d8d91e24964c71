"""The shared orchestration of a distillation: ``fit`` as a handful of named steps.

:class:`BaseDistiller` validates, then calls each component's module in turn
(see ARCHITECTURE.md): the teachers' outputs, the fused targets, the
configuration, the augmentation, the student with its chain, the report. What is
specific to a task (the target, how rows are split, the default teacher) is
behind the hooks a subclass implements; ``HPMDistiller`` is the classification
one.
"""

from contextlib import nullcontext
from dataclasses import replace
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

from . import _teachers
from ._augment import augmentation_check, synthetic_rows
from ._chain import check_chain_fits_student, fit_student
from ._configure import Request, configure, family_of, follows_schedules
from ._measure import check_serving_budget, experiment, measure, timed
from ._memory import as_memory
from ._parallel import recording_to
from ._ranker import meta_features
from ._student_features import resolve_student_features, student_columns
from ._targets import fit_targets
from ._teacher_outputs import teacher_outputs
from ._transfer import draw_seed

_FITTED = ("classes_", "teachers_", "named_teachers_", "teacher_names_", "fusion_",
           "student_", "report_", "n_features_in_", "feature_names_in_",
           "student_features_", "_fused")


class BaseDistiller(BaseEstimator):
    """The steps of a distillation shared by every task.

    Subclasses implement ``_check_target(X, y)`` (returns the validated target
    and the classes), ``_split(y, fraction, rng)`` (the training and validation
    rows of the report) and ``_default_teacher(seed)``.
    """

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teachers that need it, then distil them into the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows; given to the teachers exactly as they are.
        y : array-like of shape (n_samples,)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the teachers fitted here and to the student.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        try:
            memory = as_memory(self.memory)
            with recording_to(memory):
                return self._fit(X, y, sample_weight, memory)
        except BaseException:
            self._forget_fit()
            raise

    def _fit(self, X, y, sample_weight, memory):
        X, y, sample_weight, classes = self._validate_training_data(
            X, y, sample_weight)
        rng = check_random_state(self.random_state)
        names, teachers = self._checked_teachers(classes, draw_seed(rng))
        train, valid = self._split(y, self.validation_fraction, rng)
        X_train, y_train = _safe_indexing(X, train), y[train]
        w_train = None if sample_weight is None else sample_weight[train]
        timings = {}
        outputs = teacher_outputs(
            teachers, X_train, y_train, w_train, classes, cv=self.cv,
            soft_targets=self.soft_targets, prefit_teachers=self.prefit_teachers,
            names=names, gate_learns=len(teachers) > 1 and self.fusion != "mean",
            random_state=draw_seed(rng), n_jobs=self.n_jobs, memory=memory,
            timed=partial(timed, timings))
        X_student = self._student_columns(X_train)
        with timed(timings, "fusion"):
            fused, transfer = self._fit_targets(X_train, X_student, y_train, w_train,
                                                outputs, classes, draw_seed(rng))
        configuration, transfer, meta, seed = self._configure_and_augment(
            X_train, X_student, transfer, fused, outputs, memory, names, rng,
            timings)
        with timed(timings, "student"):
            chain, chain_search = fit_student(
                configuration, transfer, outputs.size.capacity, self.chain,
                self.chain_min_improvement, seed, self.n_jobs)
        self._set_fitted(classes, names, fused, chain[-1].model)
        X_valid, y_valid = _safe_indexing(X, valid), y[valid]
        self.report_ = measure(
            X_valid, y_valid, fused, self.student_, teacher_names=names,
            teacher_size=outputs.size, timings=timings, configuration=configuration,
            chain=chain, chain_search=chain_search, n_synthetic=transfer.n_synthetic,
            details={"fusion": self.fusion, "soft_targets": self.soft_targets,
                     "prefit_teachers": self.prefit_teachers,
                     "student_features": self.student_features_.tolist()},
            memory=memory)
        self._record(memory, meta, X_train, classes)
        check_serving_budget(self.student_, self.report_,
                             self._student_columns(X_valid), self.max_student_bytes,
                             self.max_latency_ms)
        return self

    def _fit_targets(self, X_train, X_student, y_train, w_train, outputs, classes,
                     seed):
        """The fused teachers and the transfer set of the training rows."""
        return fit_targets(
            X_train, X_student, y_train, np.searchsorted(classes, y_train), w_train,
            outputs, fusion=self.fusion,
            student_preprocessor=self.student_preprocessor,
            family="mlp" if self.student == "auto" else family_of(self.student),
            classes=classes, student_columns=self._student_columns_picker(),
            seed=seed, n_jobs=self.n_jobs)

    def _configure_and_augment(self, X_train, X_student, transfer, fused, outputs,
                               memory, names, rng, timings):
        """The configuration (component i) and the synthetic rows, in their order.

        A fixed ``augment`` extends the transfer set before the configuration
        (which then chooses on it); ``"auto"`` decides after it, with the
        configured student.

        Returns
        -------
        configuration : Configuration
        transfer : TransferSet
            With the synthetic rows, if any.
        meta : dict or None
            The task's meta-features (when configured or recorded).
        seed : int
            The student's seed, also the selection splits'.
        """
        y_codes = np.searchsorted(fused.classes, transfer.y)
        make_rows = partial(self._synthetic_rows, X_train, fused, rng)
        if self.augment is not None and self.augment != "auto":
            with timed(timings, "augment"):
                transfer = transfer.extended(*make_rows())
        seed = draw_seed(rng)
        meta = None
        if self.student == "auto" or memory is not None:
            meta = meta_features(X_student, y_codes, transfer.Z.shape[1],
                                 outputs.gate_proba)
            meta["n_rows"] = len(transfer.y)
        with timed(timings, "configuration") if self.student == "auto" \
                else nullcontext():
            configuration = configure(
                Request.from_params(self.get_params(deep=False)), transfer,
                outputs.size, fused.preprocessor, X_student, meta, memory, names,
                seed)
        if self.augment == "auto":
            with timed(timings, "augment"):
                augment, check = augmentation_check(
                    transfer, configuration.student, configuration.temperature,
                    configuration.alpha, make_rows, seed, self.n_jobs)
                configuration.details["augmentation_check"] = check
                if augment:
                    transfer = transfer.extended(*make_rows())
        return configuration, transfer, meta, seed

    def _synthetic_rows(self, X_train, fused, rng, rows=None):
        """MUNGE rows made from the training rows (or those ``rows`` of them)."""
        source = X_train if rows is None else _safe_indexing(X_train, rows)
        ratio = (self.augment_ratio if self.augment in ("munge", "auto")
                 else self.augment)
        return synthetic_rows(source, ratio, fused, rng)

    def _set_fitted(self, classes, names, fused, model):
        self.classes_ = classes
        self.teachers_ = fused.teachers
        self.teacher_names_ = np.asarray(names, dtype=object)
        self.named_teachers_ = Bunch(**dict(zip(names, fused.teachers, strict=True)))
        self.fusion_ = fused.fusion
        self._fused = fused
        self.student_ = Pipeline([("preprocess", fused.preprocessor),
                                  ("student", model)])

    def _record(self, memory, meta, X_train, classes):
        """Keep the fit in the optimization memory."""
        if memory is None:
            return
        memory.record(experiment(
            self.report_, self.student_[-1], meta, self.get_params(deep=False),
            _num_samples(X_train), self.n_features_in_, len(classes)))

    def get_params(self, deep=True):
        """Parameters of the distiller; with ``deep``, of its teachers and student.

        A list of teachers exposes each as ``teachers__<name>`` and its
        parameters as ``teachers__<name>__<param>`` (names as in
        ``teacher_names_``: given, or made from the class names).
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.teachers, (list, tuple)):
            for name, teacher in _teachers.teacher_pairs(self.teachers):
                params[f"teachers__{name}"] = teacher
                if hasattr(teacher, "get_params"):
                    params.update({f"teachers__{name}__{key}": value for key, value
                                   in teacher.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        """Set parameters, ``teachers__<name>[__<param>]`` included.

        Returns
        -------
        self : object
        """
        if isinstance(params.get("teachers", self.teachers), (list, tuple)):
            if "teachers" in params:
                super().set_params(teachers=params.pop("teachers"))
            nested = {key: params.pop(key) for key in list(params)
                      if key.startswith("teachers__")}
            for key, value in nested.items():
                self._set_teacher_param(key.split("__", 2)[1:], value)
        return super().set_params(**params)

    def _set_teacher_param(self, path, value):
        pairs = _teachers.teacher_pairs(self.teachers)
        names = [name for name, _ in pairs]
        if path[0] not in names:
            raise ValueError(f"No teacher named {path[0]!r}; the teachers are "
                             f"{names}.")
        index = names.index(path[0])
        if len(path) == 2:
            pairs[index][1].set_params(**{path[1]: value})
            return
        teachers = list(self.teachers)
        teachers[index] = ((path[0], value) if _teachers.is_pair(teachers[index])
                           else value)
        self.teachers = type(self.teachers)(teachers)

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
        return self.fusion_.weights(fused.gate_inputs(X), fused.proba(X))

    def _fused_teachers(self):
        """The fitted teachers and their fusion, run with the current ``n_jobs``."""
        return replace(self._fused, n_jobs=self.n_jobs)

    def _validate_training_data(self, X, y, sample_weight):
        """X, y, sample_weight and the classes, checked; the student's columns set."""
        X = self._validate_input(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y, classes = self._check_target(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        self.student_features_ = resolve_student_features(
            self.student_features, self.n_features_in_,
            getattr(self, "feature_names_in_", None))
        return X, y, sample_weight, classes

    def _checked_teachers(self, classes, seed):
        """The teachers as names and estimators, checked against the task."""
        pairs = _teachers.named_teachers(self.teachers, seed,
                                         default=self._default_teacher)
        teachers = [teacher for _, teacher in pairs]
        _teachers.check_teacher_methods(teachers)
        _teachers.check_teacher_classes(teachers, classes)
        self._check_temperature_fits_student()
        check_chain_fits_student(self.chain, self.student)
        return [name for name, _ in pairs], teachers

    def _check_temperature_fits_student(self):
        if isinstance(self.temperature, Real) or self.temperature == "auto":
            return
        if not follows_schedules(self.student):
            raise ValueError(
                f"temperature={self.temperature!r} is a schedule over epochs or "
                f"boosting rounds, which only MLPStudent, LGBMStudent and "
                f"XGBStudent follow; the student {self.student!r} takes a number."
            )

    def _validate_input(self, X, *, reset=False):
        """Check X: DataFrames pass untouched to the teachers."""
        if not reset:
            check_is_fitted(self)
        if hasattr(X, "columns"):
            validate_data(self, X, reset=reset, skip_check_array=True)
        else:
            X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan",
                              ensure_min_samples=1)
        _reject_infinities(X)
        return X

    def _student_columns_picker(self):
        """A picklable function giving the student's columns of validated rows."""
        return partial(student_columns, student_features=self.student_features_,
                       feature_names=getattr(self, "feature_names_in_", None))

    def _student_columns(self, X):
        """The columns of validated rows ``X`` that the student takes."""
        return self._student_columns_picker()(X)

    def _forget_fit(self):
        for name in _FITTED:
            self.__dict__.pop(name, None)


def _reject_infinities(X):
    if hasattr(X, "select_dtypes"):
        values = X.select_dtypes(include="number").to_numpy(dtype=np.float64,
                                                             na_value=np.nan)
    else:
        values = X
    if np.isinf(values).any():
        raise ValueError("Input X contains infinity; replace it before fitting "
                         "(missing values may be NaN where the teachers accept it).")
