"""HPMDistiller: validation and orchestration of a distillation, little else."""

import sys
import time
import uuid
import warnings
from contextlib import contextmanager, nullcontext
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _teachers
from ._augment import iter_munge
from ._chain import (
    TransferSet,
    assistant_capacities,
    choose_assistants,
    fit_branches,
    fit_chain,
    max_auto_assistants,
    student_capacity,
)
from ._configure import (
    FAMILIES,
    SCHEDULE_FAMILIES,
    Configuration,
    candidate_space,
    meta_features,
    ranker_for,
    with_fixed,
    within_size_budget,
)
from ._fusion import fuse, make_fusion
from ._halving import (
    LATENCY_ROWS,
    Limits,
    SearchData,
    distillation_check,
    least_over_limits,
    pareto_front,
    plan_rungs,
    probe_limits,
    successive_halving,
)
from ._memory import as_memory, fingerprint_data, fingerprint_estimator
from ._parallel import recording_to
from ._preprocess import default_preprocessor
from ._student_features import resolve_student_features, student_columns
from ._temperature import SCHEDULES, AdaptiveTemperature, as_scheduler
from .metrics import fidelity, model_size, predict_latency, retention
from .report import DistillationReport
from .students import STUDENT_FAMILIES

_SEED_SPACE = 2**31 - 1
# temperature="auto" for students that take a number: the middle of the 1-4 range
# of Hinton et al. (2015); students that follow a schedule get AdaptiveTemperature,
# which starts here.
_CONSTANT_TEMPERATURE = 2.0
# alpha="auto" for a student the user chose: the weight HPMDistiller always used.
_DEFAULT_ALPHA = 0.7
# chain="auto" holds out this fraction of the real transfer rows to compare chains,
# and does not search below _MIN_ROWS_CHAIN_SEARCH real rows.
_CHAIN_SELECTION_FRACTION = 0.2
_MIN_ROWS_CHAIN_SEARCH = 100
# MUNGE's neighbour search is quadratic in its source rows: sample this many.
_MUNGE_MAX_SOURCE_ROWS = 20_000
# augment="auto" tries MUNGE rows up to this many real training rows: the check
# trains the student on augment_ratio times as many synthetic rows, and synthetic
# rows matter where real ones are scarce.
_AUTO_AUGMENT_MAX_ROWS = 20_000


class HPMDistiller(ClassifierMixin, BaseEstimator):
    """Distil one or several teachers into a compact student.

    The teachers (fitted or not; scikit-learn, XGBoost, LightGBM, torch) label the
    training rows with probabilities; a small student learns from those soft
    targets and the true labels. At inference only the student runs.

    Parameters
    ----------
    teachers : estimator, list of estimators or None, default=None
        ``None`` fits a :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        A fitted teacher is used as it is and never refitted; an unfitted one is
        cloned and fitted on the training rows. Wrap prefit teachers in
        :class:`~sklearn.frozen.FrozenEstimator` to keep them fitted through
        :func:`~sklearn.base.clone` (as in ``GridSearchCV``). A trained
        ``torch.nn.Module`` mapping float32 features to logits is accepted too.
    student : {"auto", "mlp", "tree", "lgbm", "xgb", "linear"} or estimator, \
            default="auto"
        The student family, or a student instance (its parameters are reachable
        as ``student__<name>``). ``"auto"``: the adaptive configuration picks the
        family (MLP, LightGBM, tree or linear), its size, the temperature and
        alpha (see Notes), among students estimated to be at least
        ``min_compression`` times smaller than the teachers. A family name gives
        that family's default student.
    temperature : float, {"auto", "anneal", "adaptive"} or scheduler, \
            default="auto"
        Softening temperature of the teachers' probabilities: a constant > 0, or
        a schedule over the epochs of an MLP student or the rounds of a booster
        student: ``"anneal"`` (from 4 down towards 1, geometrically) or
        ``"adaptive"`` (from 2, sharpening towards 1 after each epoch in which
        the measured student-teacher gap stops shrinking), or an object with
        ``initial()`` and ``step(epoch, gap)`` such as
        :class:`AdaptiveTemperature`. ``"auto"`` is ``"adaptive"`` for students
        that follow a schedule and 2.0 for the others (trees, linear models),
        unless ``student="auto"``, where the configuration chooses it. A value
        other than ``"auto"`` is always used as given.
    alpha : float or "auto", default="auto"
        Weight of the soft-target loss against the hard-label loss, in [0, 1].
        ``"auto"`` is chosen by the configuration with ``student="auto"`` and is
        0.7 with any other student. The configuration may choose 0, training the
        student on the hard labels alone: with a search budget of 3 or more its
        last fit is the winner's twin without distillation, which wins when it is
        more accurate on the selection rows (distilling does not always pay: a
        linear student of ``hpc_data`` lost 4 points to itself on hard labels in
        ``benchmarks/run.py``'s quick suite). A number is always used as given.
    fusion : {"attention", "mean", "accuracy"}, default="attention"
        How several teachers' probabilities become one target: a gate giving
        per-sample weights, the plain mean, or global weights from each
        teacher's accuracy. The gate and the accuracies are learned against the
        true labels on out-of-fold outputs of the teachers fitted here; prefit
        teachers are scored on the rows given to ``fit`` as they are, so give
        them rows they were not fitted on. With one teacher every fusion is the
        identity.
    soft_targets : {"oof", "in_sample"}, default="oof"
        Where the targets on the training rows come from for teachers that
        HPMDistiller fits itself: copies cross-fitted on ``cv`` folds (a teacher
        predicting on its own training rows mostly repeats the hard labels), or
        the teacher fitted on all rows. Prefit teachers always label the rows as
        they are: give them rows they were not fitted on, or use augmentation.
        With several teachers and a learned ``fusion``, the copies are
        cross-fitted either way, for the gate: ``"in_sample"`` then saves no
        time.
    cv : int, default=5
        Folds of the out-of-fold outputs of the teachers fitted here (the soft
        targets with ``soft_targets="oof"``, and what the gate learns on).
    chain : "auto", bool or int, default=False
        Assistants between the teachers and the student (progressive
        distillation, see Notes): an int fixes how many, ``False`` (or 0) trains
        the student alone, ``"auto"`` (or ``True``) holds out a fifth of the
        real training rows and adds assistants one at a time while each raises
        the student's fidelity to the teachers there by at least
        ``chain_min_improvement``, then refits the chosen chain on all rows.
        ``"auto"`` only tries chains whose neighbouring models are at least 4
        times apart in capacity (at most 3 assistants), so it trains the
        student alone when it is less than 16 times smaller than the teachers.
        Off by default: on the tabular benchmarks (``benchmarks/chain.py``)
        assistants moved the student's test fidelity by -0.1 to +0.5 points,
        within the spread over seeds, while ``"auto"``'s search costs two to
        five extra student fits.
    chain_min_improvement : float, default=0.005
        Gain in selection fidelity that earns ``chain="auto"`` one more
        assistant.
    augment : None, "munge", "auto" or float, default="auto"
        Synthetic transfer rows: ``"munge"`` makes ``augment_ratio`` times the
        training rows with MUNGE (Bucila et al., 2006), labelled by the fused
        teachers; a float is ``"munge"`` with that ratio. They are made and
        labelled in chunks; an MLP student trains on them but stops early on
        real rows only. ``"auto"`` decides after the configuration: the
        configured student trains with and without MUNGE rows on a selection
        split of the training rows (two extra fits), and the rows are kept only
        if they make it more accurate there
        (``report_.details["configuration"]["augmentation_check"]``); above
        20,000 real training rows it keeps none without trying. On the
        benchmarks (``benchmarks/augment_auto.py``) it was never more than 0.1
        point below ``None`` with the configured student, and kept 25-56 % of
        the gap to the teachers closed with a small fixed one, where ``None``
        closed -78 to 12 %.
    augment_ratio : float, default=4.0
        Synthetic rows per training row for ``augment="munge"`` or ``"auto"``.
    validation_fraction : float, default=0.2
        Fraction of the training rows held out (stratified) to measure the
        report; teachers fitted here and the student never train on them.
    min_compression : float or None, default=10.0
        For ``student="auto"``: only students whose estimated serialized size
        and parameter count (weights, or tree nodes) are at most the teachers'
        divided by this are candidates (the smallest ones when none is).
        ``None``: no size budget from the teachers.
    search_budget : int or None, default=12
        For ``student="auto"``: the most candidate fits of the successive
        halving on a selection split of the training rows (the winner's final
        fit on all rows is not counted). ``None`` (or too few training rows, or
        a budget below 2) fits the best ranked candidate directly, at the cost of
        a single student fit. With ``alpha="auto"`` and a budget of 3 or more,
        the last of these fits is the winner's twin without distillation (see
        ``alpha``). On by default: with a task unlike those the prior
        learned from, the best ranked candidate alone can be far off (digits
        left out of the prior: 0.809 test accuracy without the search, 0.960
        with it, ``benchmarks/configure.py``), and the rungs fit on a quarter
        and a half of the rows, so the search costs about one more student fit.
    max_student_bytes : float or None, default=None
        Serving budget: the most pickled bytes of ``student_`` (preprocessing
        included). With ``student="auto"`` no candidate over it can win; a
        student over it gives a warning.
    max_latency_ms : float or None, default=None
        Serving budget: the most milliseconds of ``student_.predict_proba`` per
        1,000 rows, on this machine. With ``student="auto"`` candidates are
        measured and none over it can win (without ``search_budget``, the best
        ranked are fitted on 256 rows to measure them, until one is within); a
        student over it gives a warning.
    student_preprocessor : transformer, "passthrough" or None, default=None
        Preprocessing fitted for the student and carried in ``student_``.
        ``None`` imputes and scales numeric columns and encodes categorical ones
        (one-hot for networks and linear models, ordinal for trees). A
        transformer given here must output a dense numeric array (the gate of
        ``fusion="attention"`` reads it too, unless ``student_features`` leaves
        columns out); ``"passthrough"`` needs numeric X.
    student_features : array-like of str, int or bool, or None, default=None
        The columns the student sees, for a student that must serve without
        the others (a slow lookup, a late-arriving field): column names (when
        ``X`` has string column names), integer indices (negative ones count
        from the end) or a boolean mask over the columns of ``X``. ``None``
        gives the student every column. The teachers (fitted here or prefit)
        still read every column, and so does the gate of
        ``fusion="attention"``, through a default preprocessing of its own: it
        only runs in ``fit``, ``teacher_proba`` and ``teacher_weights``, never
        at serving time. MUNGE rows (``augment``) are made from every column,
        labelled by the teachers, and the student learns from their chosen
        columns. ``student_`` then takes only the chosen columns, in the order
        of ``student_features_``; ``predict`` and ``predict_proba`` still take
        every column and pick the student's ones first. Checked before any
        work: unknown names, indices out of range, duplicates and an empty
        selection raise a ``ValueError``.
    memory : None, str, path or OptimizationMemory, default=None
        The optimization memory (a SQLite file, created on first use): every
        fit is recorded there with its configuration and validation scores,
        parallel jobs' durations refine the expected cost that orders them, and
        the teachers' outputs (out-of-fold, on the training and the validation
        rows) and their measured latency are cached, so that a re-fit with the
        same teachers and rows does not run them again. An unreadable file gives
        a warning and the fit goes on without memory. With ``student="auto"``
        the configuration ranks its candidates by what the memory and the prior
        that ships with the package learned, and every candidate the search
        evaluates is recorded too. ``None``: the prior alone, nothing recorded.
    n_jobs : int or None, default=None
        Parallel jobs for fitting and querying teachers (joblib semantics).
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, the teachers fitted here and the student.
    verbose : int, default=0
        ``1`` shows a progress bar over the student's epochs or rounds.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Device of torch students; ``"auto"`` uses CUDA when present.

    Attributes
    ----------
    student_ : Pipeline
        The student with its preprocessing: usable alone on raw rows. With
        ``student_features`` it takes only those columns (a DataFrame with
        those names, or an array with those columns in the order of
        ``student_features_``).
    teachers_ : list of estimators
        The teachers used; prefit ones are the very objects given. Teachers
        fitted here on labels other than ``0 .. k-1`` are wrapped in an
        adapter (its ``estimator_`` is the fitted teacher) that fits them on
        the codes, since some libraries (XGBoost) take no other labels.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``, when ``X`` has column names.
    student_features_ : ndarray of shape (n_student_features,)
        The columns ``student_`` takes, in its order: names (object dtype) when
        ``X`` has string column names, however ``student_features`` chose
        them, else integer indices into the columns of ``X``. Every column
        when ``student_features`` is None.
    fusion_ : object
        The fitted fusion of the teachers (see ``teacher_weights``).
    report_ : DistillationReport
        Accuracy, fidelity, retention, sizes, latencies and timings; its
        ``details`` hold the mean teacher weights, the temperature schedule,
        the chosen ``"configuration"`` (its config, its ``"source"``: ``"user"``,
        ``"prior"`` or ``"memory+prior"``, the task's meta-features, and its
        ``"distillation_check"``: the race's winner against its twin on hard
        labels, or None), the
        ``"candidates"`` the search evaluated (config, rung, training rows,
        selection accuracy and fidelity, bytes, latency per 1,000 rows) and
        their ``"pareto_front"`` (accuracy against ``"bytes"`` and against
        ``"latency_ms"``).

    See Also
    --------
    skdistill.MLPStudent : The torch student with the KD loss in its training loop.

    Notes
    -----
    Implements the method of "HPM-KD: Hierarchical Progressive Multi-Teacher
    Framework for Knowledge Distillation and Efficient Model Compression"
    (arXiv 2512.09886).

    The chain: with ``m`` assistants (copies of the student at other sizes) and
    ``K = m + 1`` steps, step ``k`` has capacity ``C_teacher ** (1 - k / K) *
    C_student ** (k / K)`` (weights of a network, nodes of trees, counted as in
    ``report_``). The first assistant learns from the fused teachers' targets
    ``p``; each later step from ``0.5 * q_previous + 0.5 * p``.

    The adaptive configuration (``student="auto"``): the task's meta-features
    (rows, columns, classes, class entropy, categorical-like columns, and the
    teachers' accuracy, confidence and disagreement on their out-of-fold
    outputs) and a description of each candidate go into a random forest
    fitted on past experiments (the prior in ``skdistill/data/prior.json``,
    regenerated by ``python -m benchmarks.make_prior``, and the memory), which
    predicts how much a candidate beats the others of its experiment. With
    ``search_budget`` the best ranked race by successive halving on a
    selection split of the training rows (the rows that measure ``report_``
    are never used); the winner, the most accurate within ``max_student_bytes``
    and ``max_latency_ms`` (ties: the smaller), is refitted on all the
    training rows.

    The student minimises
    ``alpha * T^2 * KL(p_T || q_T) + (1 - alpha) * CE(y, q)`` (torch students) or
    fits the distribution ``alpha * p_T + (1 - alpha) * onehot(y)`` (trees,
    boosters, linear models).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skdistill import HPMDistiller
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> distiller = HPMDistiller(student="linear", random_state=0).fit(X, y)
    >>> distiller.predict(X[:3])
    array([0, 0, 0])
    >>> distiller.report_.fidelity > 0.9
    True
    """

    _parameter_constraints: dict = {
        "teachers": "no_validation",
        "student": [
            StrOptions({"auto", *STUDENT_FAMILIES}),
            HasMethods(["fit", "predict_proba"]),
        ],
        "temperature": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto", *SCHEDULES}),
            HasMethods(["initial", "step"]),
        ],
        "alpha": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "fusion": [StrOptions({"attention", "mean", "accuracy"})],
        "soft_targets": [StrOptions({"oof", "in_sample"})],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "chain": [StrOptions({"auto"}), "boolean",
                  Interval(Integral, 0, None, closed="left")],
        "chain_min_improvement": [Interval(Real, 0, 1, closed="both")],
        "augment": [None, StrOptions({"munge", "auto"}), Interval(Real, 0, None,
                                                          closed="neither")],
        "augment_ratio": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="right")],
        "min_compression": [Interval(Real, 1, None, closed="left"), None],
        "student_preprocessor": [
            None, StrOptions({"passthrough"}), HasMethods(["fit", "transform"]),
        ],
        "student_features": [None, "array-like"],
        "memory": "no_validation",  # as_memory: a clear TypeError before any work
        "search_budget": [None, Interval(Integral, 1, None, closed="left")],
        "max_student_bytes": [None, Interval(Real, 0, None, closed="neither")],
        "max_latency_ms": [None, Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
    }

    def __init__(
        self,
        teachers=None,
        student="auto",
        *,
        temperature="auto",
        alpha="auto",
        fusion="attention",
        soft_targets="oof",
        cv=5,
        chain=False,
        chain_min_improvement=0.005,
        augment="auto",
        augment_ratio=4.0,
        validation_fraction=0.2,
        min_compression=10.0,
        student_preprocessor=None,
        student_features=None,
        memory=None,
        search_budget=12,
        max_student_bytes=None,
        max_latency_ms=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
        device="auto",
    ):
        self.teachers = teachers
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.fusion = fusion
        self.soft_targets = soft_targets
        self.cv = cv
        self.chain = chain
        self.chain_min_improvement = chain_min_improvement
        self.augment = augment
        self.augment_ratio = augment_ratio
        self.validation_fraction = validation_fraction
        self.min_compression = min_compression
        self.student_preprocessor = student_preprocessor
        self.student_features = student_features
        self.memory = memory
        self.search_budget = search_budget
        self.max_student_bytes = max_student_bytes
        self.max_latency_ms = max_latency_ms
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teachers that need it, then distil them into the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows; given to the teachers exactly as they are.
        y : array-like of shape (n_samples,)
            Class labels.
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
        X, y = self._validate_input(X, y, reset=True)
        self.student_features_ = resolve_student_features(
            self.student_features, self.n_features_in_,
            getattr(self, "feature_names_in_", None))
        classes = np.unique(y)
        rng = check_random_state(self.random_state)
        teachers = _teachers.as_teacher_list(self.teachers, _seed(rng))
        _teachers.check_teacher_methods(teachers)
        _teachers.check_teacher_classes(teachers, classes)
        self._check_temperature_fits_student()
        self._check_chain_fits_student()
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        train, valid = _stratified_split(y, self.validation_fraction, rng)
        X_train, y_train = _safe_indexing(X, train), y[train]
        w_train = None if sample_weight is None else sample_weight[train]
        timings = {}
        templates = teachers
        oof_seed = _seed(rng)
        oof, oof_cache = None, None
        if self._needs_oof(templates):
            oof_cache = _OutputCache(memory, "oof", templates,
                                     (X_train, y_train, w_train, classes, self.cv,
                                      oof_seed))
            oof = oof_cache.get()
        with _timed(timings, "teachers"):
            # The teachers and their cross-fitted copies share one queue.
            teachers, fitted_here, fresh_oof = _teachers.fit_and_cross_fit(
                templates, X_train, y_train, w_train, classes, self.cv, oof_seed,
                self.n_jobs, cross_fit=oof_cache is not None and oof is None)
        if fresh_oof is not None:
            oof = oof_cache.put(fresh_oof)
        teacher_size = model_size(teachers)  # pickles them: measured once
        with _timed(timings, "soft_targets"):
            train_proba, gate_proba = self._training_proba(
                teachers, fitted_here, X_train, classes, oof, memory)
        y_codes = np.searchsorted(classes, y_train)
        with _timed(timings, "fusion"):
            X_student = self._student_columns(X_train)
            preprocessor = self._fit_preprocessor(X_student)
            gate_preprocessor = self._fit_gate_preprocessor(X_train, X_student,
                                                            preprocessor)
            Z_train = preprocessor.transform(X_student)
            Z_gate = (Z_train if gate_preprocessor is preprocessor
                      else gate_preprocessor.transform(X_train))
            fusion = make_fusion(self.fusion, _seed(rng)).fit(
                Z_gate, gate_proba, y_codes, w_train)
            targets = fusion.fuse(Z_gate, train_proba)
        transfer = TransferSet(Z_train, y_train, targets, w_train)

        def synthetic_rows(rows=None):
            source = X_train if rows is None else _safe_indexing(X_train, rows)
            return self._synthetic_rows(source, preprocessor, gate_preprocessor,
                                        fusion, teachers, classes, rng)

        if self.augment is not None and self.augment != "auto":
            with _timed(timings, "augment"):
                transfer = transfer.extended(*synthetic_rows())
        seed = _seed(rng)
        meta = None
        if self.student == "auto" or memory is not None:
            meta = meta_features(X_student, y_codes, Z_train.shape[1], gate_proba)
            meta["n_rows"] = len(transfer.y)
        with _timed(timings, "configuration") if self.student == "auto" \
                else nullcontext():
            configuration = self._configure(transfer, teachers, teacher_size,
                                            preprocessor, X_student, meta, memory,
                                            seed)
        if self.augment == "auto":
            with _timed(timings, "augment"):
                augment, check = self._augmentation_check(
                    transfer, configuration, synthetic_rows, seed)
                configuration.details["augmentation_check"] = check
                if augment:
                    transfer = transfer.extended(*synthetic_rows())
        with _timed(timings, "student"):
            chain, chain_search = self._fit_student(transfer, teacher_size,
                                                    configuration, seed)
        self.classes_ = classes
        self.teachers_ = teachers
        self.fusion_ = fusion
        self._gate_preprocessor = gate_preprocessor
        self.student_ = Pipeline([("preprocess", preprocessor),
                                  ("student", chain[-1].model)])
        self.report_ = self._measure(_safe_indexing(X, valid), y[valid], timings,
                                     transfer.n_synthetic, chain, chain_search,
                                     memory, configuration, teacher_size)
        if memory is not None:
            memory.record(self._experiment(X_train, transfer, meta,
                                           configuration.details))
        self._check_serving_budget(self._student_columns(_safe_indexing(X, valid)))
        return self

    def _check_temperature_fits_student(self):
        if isinstance(self.temperature, Real) or self.temperature == "auto":
            return
        if not self._student_follows_schedules():
            raise ValueError(
                f"temperature={self.temperature!r} is a schedule over epochs or "
                f"boosting rounds, which only MLPStudent, LGBMStudent and "
                f"XGBStudent follow; the student {self.student!r} takes a number."
            )

    def _student_follows_schedules(self):
        if self.student == "auto":
            return True  # the configuration keeps to families that do
        family = STUDENT_FAMILIES.get(self.student, type(self.student))
        return getattr(family, "accepts_temperature_schedule", False)

    def _student_temperature(self):
        """The temperature (a number or a fresh scheduler) given to the student."""
        if self.temperature != "auto":
            return as_scheduler(self.temperature)
        if self._student_follows_schedules():
            return AdaptiveTemperature()
        return _CONSTANT_TEMPERATURE

    def _needs_oof(self, templates):
        """Whether teachers fitted here must label their rows out of fold.

        For the student's targets (``soft_targets="oof"``), and for the gate (or
        the accuracy weights) even with ``"in_sample"`` targets: a teacher scored
        on rows it was fitted on looks better than it is.
        """
        if all(_teachers.is_fitted(t) for t in templates):
            return False
        gate_learns = len(templates) > 1 and self.fusion != "mean"
        return gate_learns or self.soft_targets == "oof"

    def _training_proba(self, teachers, fitted_here, X_train, classes, oof,
                        memory):
        """Teacher probabilities on the training rows: the targets, the gate's.

        ``oof`` holds the out-of-fold outputs of the teachers fitted here (and
        the prefit ones' plain outputs) where they were needed.
        """
        if self.soft_targets == "oof" and oof is not None:
            return oof, oof
        in_sample = self._teachers_proba_cached(memory, teachers, X_train, classes)
        return in_sample, in_sample if oof is None else oof

    def teacher_proba(self, X):
        """The fused teachers' probabilities, the targets the student learns from.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._validate_input(X)
        Z, proba = self._teacher_inputs(X)
        return self.fusion_.fuse(Z, proba)

    def teacher_weights(self, X):
        """Per-sample weight of each teacher in the fused targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to weigh the teachers on.

        Returns
        -------
        ndarray of shape (n_samples, n_teachers)
            Rows sum to one; columns follow ``teachers_``.
        """
        X = self._validate_input(X)
        return self.fusion_.weights(*self._teacher_inputs(X))

    def _teachers_proba_cached(self, memory, teachers, X, classes):
        return cached_output(
            memory, "proba", teachers, (X, classes),
            lambda: _teachers.teachers_proba(teachers, X, classes, self.n_jobs))

    def _experiment(self, X_train, transfer, meta, configuration):
        """What the memory keeps of this fit.

        ``meta`` are the task's meta-features; ``configuration`` what
        ``report_.details["configuration"]`` shows (where the student's
        configuration came from).
        """
        report = self.report_
        student = self.student_[-1]
        return {
            "dataset": {**meta,
                        "n_rows": _num_samples(X_train),
                        "n_features": self.n_features_in_,
                        "n_classes": len(self.classes_),
                        "n_synthetic_rows": transfer.n_synthetic},
            "teachers": {"names": list(report.teacher_accuracies),
                         "accuracy": report.teacher_accuracy,
                         "n_parameters": report.teacher_size.n_parameters},
            "config": {
                "family": _family_of(student),
                "student": {k: v for k, v in student.get_params(deep=False).items()
                            if isinstance(v, (int, float, str, bool, tuple,
                                              type(None)))},
                **{name: getattr(self, name) if isinstance(
                    getattr(self, name), (int, float, str, bool, type(None)))
                   else type(getattr(self, name)).__name__
                   for name in ("temperature", "alpha", "fusion", "soft_targets",
                                "chain", "augment", "augment_ratio")},
                "n_assistants": len(report.details["chain"]) - 1,
            },
            "val_accuracy": report.student_accuracy,
            "val_fidelity": report.fidelity,
            "student_bytes": report.student_size.n_bytes,
            "student_params": report.student_size.n_parameters,
            "latency_ms": 1e6 * report.student_latency_s / report.n_validation,
            "fit_seconds": sum(report.timings_s.values()),
            "extra": {"kind": "fit", "configuration": {
                key: configuration.get(key) for key in ("source", "config")}},
        }

    def _teacher_inputs(self, X):
        """The gate's features (every column) and the teachers' probabilities."""
        proba = _teachers.teachers_proba(self.teachers_, X, self.classes_, self.n_jobs)
        return self._gate_preprocessor.transform(X), proba

    def _student_columns(self, X):
        """The columns of validated rows ``X`` that the student takes."""
        return student_columns(X, self.student_features_,
                               getattr(self, "feature_names_in_", None))

    def _forget_fit(self):
        for name in ("classes_", "teachers_", "fusion_", "student_", "report_",
                     "n_features_in_", "feature_names_in_", "student_features_",
                     "_gate_preprocessor"):
            self.__dict__.pop(name, None)

    def _validate_input(self, X, y=None, *, reset=False):
        """Check X (and y): DataFrames pass untouched to the teachers."""
        if not reset:
            check_is_fitted(self)
        if hasattr(X, "columns"):
            validate_data(self, X, reset=reset, skip_check_array=True)
            _reject_infinities(X)
        else:
            X = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan",
                              ensure_min_samples=1)
            _reject_infinities(X)
        if not reset:
            return X
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        if np.unique(y).shape[0] < 2:
            raise ValueError(
                "HPMDistiller needs at least 2 classes in y; got 1 class: "
                f"{np.unique(y)[0]!r}."
            )
        return X, y

    def _fit_preprocessor(self, X_train):
        family = "mlp" if self.student == "auto" else _family_of(self.student)
        if self.student_preprocessor is None:
            preprocessor = default_preprocessor(family, X_train)
        elif isinstance(self.student_preprocessor, str):
            preprocessor = FunctionTransformer()
        else:
            preprocessor = clone(self.student_preprocessor)
        return preprocessor.fit(X_train)

    def _fit_gate_preprocessor(self, X_train, X_student, preprocessor):
        """The gate's preprocessing: the student's, unless the student sees fewer
        columns; then the default one of the student's family, on every column.

        The gate never runs at serving time, so it reads every column; a
        ``student_preprocessor`` given for the student's columns may not know
        the others, so it is not reused.
        """
        if X_student is X_train:
            return preprocessor
        family = "mlp" if self.student == "auto" else _family_of(self.student)
        return default_preprocessor(family, X_train).fit(X_train)

    def _synthetic_rows(self, X_train, preprocessor, gate_preprocessor, fusion,
                        teachers, classes, rng):
        """MUNGE rows labelled by the fused teachers, made and labelled in chunks.

        The rows are made from every column, as the teachers and the gate read
        them; the student's inputs are their chosen columns.
        """
        ratio = (self.augment_ratio if self.augment in ("munge", "auto")
                 else self.augment)
        n_rows = _num_samples(X_train)
        source = X_train
        if n_rows > _MUNGE_MAX_SOURCE_ROWS:  # the neighbour search is quadratic
            keep = np.sort(rng.choice(n_rows, _MUNGE_MAX_SOURCE_ROWS, replace=False))
            source = _safe_indexing(X_train, keep)
        Z_parts, target_parts = [], []
        for chunk in iter_munge(source, max(1, int(round(ratio * n_rows))),
                                random_state=_seed(rng)):
            Z_gate = gate_preprocessor.transform(chunk)
            Z = (Z_gate if gate_preprocessor is preprocessor
                 else preprocessor.transform(self._student_columns(chunk)))
            proba = _teachers.teachers_proba(teachers, chunk, classes, self.n_jobs)
            Z_parts.append(Z)
            target_parts.append(fusion.fuse(Z_gate, proba))
        targets = np.vstack(target_parts)
        return np.vstack(Z_parts), classes[targets.argmax(axis=1)], targets

    def _fit_student(self, transfer, teacher_size, configuration, seed):
        """Fit the chain ending in the configured student on the transfer set.

        Returns
        -------
        steps : list of ChainStep
            The assistants, then the student.
        search : dict of int to float
            With ``chain="auto"``: selection fidelity per number of assistants.
        """
        n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
        student = clone(configuration.student)
        self._pass_down(student, seed)
        teacher_capacity = _capacity(teacher_size)
        own_capacity = student_capacity(student, n_inputs, n_classes)
        search, refitted = {}, None
        if self.chain is False:
            n_assistants = 0
        elif self.chain is True or self.chain == "auto":
            n_assistants, search, refitted = self._search_assistants(
                student, teacher_capacity, own_capacity, transfer, configuration,
                seed)
        else:
            n_assistants = int(self.chain)
        if refitted is not None:
            return refitted, search
        capacities = (assistant_capacities(teacher_capacity, own_capacity,
                                           n_assistants) if n_assistants else [])
        steps = fit_chain(student, capacities, transfer, configuration.temperature,
                          configuration.alpha, n_inputs, n_classes)
        return steps, search

    def _configure(self, transfer, teachers, teacher_size, preprocessor, X_student,
                   meta, memory, seed):
        """The student, temperature and alpha to fit (HPM-KD component i).

        An explicit ``student`` is used as given (``"auto"`` temperature and
        alpha then take their fixed defaults); ``student="auto"`` ranks the
        candidate space with what the prior and the memory learned, and searches
        the best ranked with ``search_budget``.
        """
        n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
        if self.student != "auto":
            student = self._student_template()
            return Configuration(
                student, self._student_temperature(),
                _DEFAULT_ALPHA if self.alpha == "auto" else self.alpha,
                {"source": "user", "config": _config_of(student)})
        ranker, source = ranker_for(
            [] if memory is None else memory.experiments(), meta)
        ranked, predicted = ranker.rank(
            meta, self._candidates(teacher_size, preprocessor, n_inputs, n_classes))
        winner, evaluations = self._search(
            ranked, lambda: self._search_data(transfer, preprocessor, X_student, seed),
            seed, _recorder(memory, meta, teachers))
        details = {
            "source": source, "config": winner.as_dict(),
            "search_budget": self.search_budget, "n_fits": len(evaluations),
            "distillation_check": distillation_check(evaluations),
            "meta_features": meta,
            "ranking": [{"config": c.as_dict(), "predicted": p}
                        for c, p in zip(ranked[:5], predicted, strict=False)],
        }
        return Configuration(winner.make_student(), winner.student_temperature(),
                             winner.alpha, details, evaluations)

    def _candidates(self, teacher_size, preprocessor, n_inputs, n_classes):
        """The candidate space less what the user fixed or the budgets exclude."""
        families = FAMILIES
        if not (isinstance(self.temperature, Real) or self.temperature == "auto"):
            families = SCHEDULE_FAMILIES  # a schedule: students that follow one
        elif not isinstance(self.chain, (str, bool)) and self.chain > 0:
            families = tuple(f for f in families if f != "linear")  # no size
        space = with_fixed(
            candidate_space(families),
            temperature=None if self.temperature == "auto" else self.temperature,
            alpha=None if self.alpha == "auto" else self.alpha)
        max_bytes, max_parameters = np.inf, None
        if self.min_compression is not None:
            max_bytes = teacher_size.n_bytes / self.min_compression
            if teacher_size.n_parameters is not None:
                max_parameters = teacher_size.n_parameters / self.min_compression
        if self.max_student_bytes is not None:
            max_bytes = min(max_bytes, self.max_student_bytes)
        return within_size_budget(
            space, n_inputs, n_classes,
            max_bytes=max_bytes - model_size(preprocessor).n_bytes,
            max_parameters=max_parameters)

    def _search_data(self, transfer, preprocessor, X_student, seed):
        """The selection split of the search, and the preprocessing's cost."""
        training, select = self._selection_split(transfer, seed)
        classes = np.unique(transfer.y)
        rows = np.arange(min(LATENCY_ROWS, _num_samples(X_student)))
        sample = _safe_indexing(X_student, rows)
        return SearchData(
            training, transfer.Z[select], transfer.y[select],
            classes[transfer.targets[select].argmax(axis=1)],
            extra_bytes=model_size(preprocessor).n_bytes,
            extra_ms=(1000.0 * predict_latency(preprocessor.transform, sample)
                      * LATENCY_ROWS / _num_samples(sample)))

    def _search(self, ranked, make_data, seed, on_rung):
        """The winning candidate and every evaluation the search made.

        ``make_data`` builds the :class:`SearchData`, only when it is needed.
        With serving limits, the best ranked candidates within them are found
        first (probes on a few rows, not counted in ``search_budget``).
        """
        limits = Limits(self.max_student_bytes, self.max_latency_ms)
        if not self.search_budget and not limits.any:
            return ranked[0], []
        data = make_data()
        settings = {"random_state": seed, "device": self.device, "verbose": 0}
        budget = self.search_budget or 0
        # "Distil or not" is one more fit, when the race still has two or more.
        check_distillation = self.alpha == "auto" and budget >= 3
        plan = (plan_rungs(len(ranked), budget - check_distillation,
                           len(data.training.y)) if len(data.y_select) else [])
        evaluations = []
        if limits.any:
            ranked, evaluations = probe_limits(
                ranked, plan[0][0] if plan else 1, data, limits, settings,
                self.n_jobs, seed, on_rung)
            if not ranked:
                return self._closest(evaluations, limits), evaluations
        if not plan or len(ranked) < 2:
            return ranked[0], evaluations
        winner, searched = successive_halving(
            ranked, budget, data, limits, settings, self.n_jobs, seed, on_rung,
            check_distillation=check_distillation)
        evaluations += searched
        if winner is None:
            winner = self._closest(searched, limits)
        return winner, evaluations

    def _closest(self, evaluations, limits):
        """The candidate closest to the serving limits, with a warning."""
        closest = least_over_limits(evaluations, limits)
        warnings.warn(
            f"No candidate student was within max_student_bytes="
            f"{self.max_student_bytes} and max_latency_ms={self.max_latency_ms}; "
            f"the closest one is used: {closest.as_dict()}.", UserWarning,
            stacklevel=5)
        return closest

    def _selection_split(self, transfer, seed):
        """Rows to train on and real rows to choose on, both from the transfer set.

        Returns
        -------
        training : TransferSet
            The transfer set less the selection rows.
        select : ndarray of int
            A stratified fifth of the real rows; empty below
            ``_MIN_ROWS_CHAIN_SEARCH`` real rows (and ``training`` is all rows).
        """
        real = np.arange(len(transfer.y))
        if transfer.synthetic is not None:
            real = np.flatnonzero(~transfer.synthetic)
        if len(real) < _MIN_ROWS_CHAIN_SEARCH:
            return transfer, np.array([], dtype=int)
        _, select = _stratified_split(transfer.y[real], _CHAIN_SELECTION_FRACTION,
                                      check_random_state(seed))
        select = real[select]
        training = transfer.subset(np.setdiff1d(np.arange(len(transfer.y)), select))
        return training, select

    def _check_serving_budget(self, X_valid):
        """Warn when the fitted student is over ``max_student_bytes`` or latency.

        ``X_valid`` are the validation rows, in the student's columns.
        """
        latency_ms = None
        if self.max_latency_ms is not None:
            latency_ms = _latency_ms(self.student_, X_valid)
        for name, limit, value in (
                ("max_student_bytes", self.max_student_bytes,
                 self.report_.student_size.n_bytes),
                ("max_latency_ms", self.max_latency_ms, latency_ms)):
            if limit is not None and value > limit:
                warnings.warn(f"The student is over {name}={limit}: {value:.4g} "
                              "measured on the validation rows.", UserWarning,
                              stacklevel=4)

    def _check_chain_fits_student(self):
        if isinstance(self.chain, (str, bool)) or self.chain == 0:
            return
        if self.student == "auto":
            return  # the configuration keeps to families that scale
        template = (STUDENT_FAMILIES[self.student]() if isinstance(self.student, str)
                    else self.student)
        if student_capacity(template, n_inputs=1, n_classes=2) is None:
            raise ValueError(
                f"chain={self.chain} needs a student whose size can be scaled (an "
                f"MLPStudent, a TreeStudent with max_depth or max_leaf_nodes, an "
                f"LGBMStudent or XGBStudent); {self.student!r} has a single size."
            )

    def _search_assistants(self, student, teacher_capacity, own_capacity, transfer,
                           configuration, seed):
        """The number of assistants chosen on a selection split of the real rows.

        Branches with 0, 1, 2... assistants train on the rest of the transfer set
        (several at a time with ``n_jobs``); an assistant is kept while it raises
        the student's fidelity to the fused teachers on the selection rows by at
        least ``chain_min_improvement``. With several workers, the plain student
        is refitted on all rows alongside the first branches, in case the search
        keeps no assistant: a worker would otherwise idle.

        Returns
        -------
        n_assistants : int
        scores : dict of int to float
        refitted : list of ChainStep or None
            The chosen chain already fitted on all rows, if it was.
        """
        max_assistants = max_auto_assistants(teacher_capacity, own_capacity)
        training, select = self._selection_split(transfer, seed)
        if max_assistants == 0 or len(select) == 0:
            return 0, {}, None
        teacher_pred = transfer.targets[select].argmax(axis=1)
        n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
        batch = max(1, effective_n_jobs(self.n_jobs))
        scores, next_count, plain_refit = {}, 0, None
        while next_count is not None:
            counts = list(range(next_count,
                                min(max_assistants, next_count + batch - 1) + 1))
            branches = [(count, training) for count in counts]
            speculate = batch > 1 and next_count == 0
            if speculate:
                branches.append((0, transfer))
            chains = fit_branches(student, teacher_capacity, branches,
                                  configuration.temperature, configuration.alpha,
                                  n_inputs, n_classes, self.n_jobs)
            if speculate:
                plain_refit = chains.pop()
            for count, chain in zip(counts, chains, strict=True):
                student_pred = chain[-1].model.predict_proba(
                    transfer.Z[select]).argmax(axis=1)
                scores[count] = fidelity(student_pred, teacher_pred)
            chosen, next_count = choose_assistants(scores, max_assistants,
                                                   self.chain_min_improvement)
        return chosen, scores, plain_refit if chosen == 0 else None

    def _augmentation_check(self, transfer, configuration, synthetic_rows, seed):
        """``augment="auto"``: whether MUNGE rows make the student more accurate.

        The configured student trains twice on the transfer set less the
        selection rows: on those rows alone, and with MUNGE rows made from them
        only (rows made near a selection row would carry its label: the teachers
        were fitted on it). The synthetic rows are kept only when the student
        is strictly more accurate with them on the selection rows.

        Returns
        -------
        augment : bool
        check : dict
            Both selection accuracies and the choice, for ``report_.details``.
        """
        if len(transfer.y) > _AUTO_AUGMENT_MAX_ROWS:
            return False, {"chosen": None, "reason": (
                f"over {_AUTO_AUGMENT_MAX_ROWS:,} real training rows")}
        training, select = self._selection_split(transfer, seed)
        if len(select) == 0:
            return False, {"chosen": None, "reason": "too few rows to choose on"}
        rows = np.setdiff1d(np.arange(len(transfer.y)), select)
        augmented = training.extended(*synthetic_rows(rows))
        student = clone(configuration.student)
        self._pass_down(student, seed)
        n_inputs, n_classes = transfer.Z.shape[1], transfer.targets.shape[1]
        chains = fit_branches(student, None, [(0, training), (0, augmented)],
                              configuration.temperature, configuration.alpha,
                              n_inputs, n_classes, self.n_jobs)
        without, munge = (
            float(np.mean(chain[-1].model.predict(transfer.Z[select])
                          == transfer.y[select])) for chain in chains)
        return munge > without, {
            "accuracy_without": without, "accuracy_munge": munge,
            "n_synthetic_rows": augmented.n_synthetic,
            "chosen": "munge" if munge > without else None}

    def _pass_down(self, student, seed):
        """Give the student the distiller's seed, verbosity and device."""
        params = {"verbose": self.verbose, "device": self.device}
        if isinstance(self.student, str) or student.get_params().get(
                "random_state", 0) is None:
            params["random_state"] = seed
        known = student.get_params(deep=False)
        student.set_params(**{k: v for k, v in params.items() if k in known})

    def _student_template(self):
        """The unfitted student the user asked for (a family or an instance)."""
        if not isinstance(self.student, str):
            return clone(self.student)
        return STUDENT_FAMILIES[self.student]()

    def _measure(self, X_valid, y_valid, timings, n_synthetic, chain, chain_search,
                 memory, configuration, teacher_size):
        valid_proba = self._teachers_proba_cached(memory, self.teachers_, X_valid,
                                                  self.classes_)
        Z_gate = self._gate_preprocessor.transform(X_valid)
        weights = self.fusion_.weights(Z_gate, valid_proba)
        teacher_pred = self.classes_[fuse(weights, valid_proba).argmax(axis=1)]
        X_student = self._student_columns(X_valid)
        Z_student = (Z_gate if self._gate_preprocessor is self.student_[0]
                     else self.student_[0].transform(X_student))
        student_pred = self.student_.predict(X_student)
        teacher_acc = float(np.mean(teacher_pred == y_valid))
        student_acc = float(np.mean(student_pred == y_valid))
        student_size = model_size(self.student_)
        # Cached with the teachers' outputs: measuring it means running them.
        # The key holds all that runs: the teachers, the gate, its inputs' columns.
        teacher_latency = float(cached_output(
            memory, "latency", self.teachers_,
            (X_valid, self.fusion_, self._gate_preprocessor, self.n_jobs),
            lambda: np.array([predict_latency(
                lambda rows: self.fusion_.fuse(*self._teacher_inputs(rows)),
                X_valid)]))[0])
        student_latency = predict_latency(self.student_.predict_proba, X_student)
        names = [_teacher_name(i, t) for i, t in enumerate(self.teachers_)]
        return DistillationReport(
            n_validation=len(y_valid),
            teacher_accuracy=teacher_acc,
            teacher_accuracies={
                name: float(np.mean(self.classes_[proba.argmax(axis=1)] == y_valid))
                for name, proba in zip(names, valid_proba, strict=True)
            },
            student_accuracy=student_acc,
            fidelity=fidelity(student_pred, teacher_pred),
            retention=retention(student_acc, teacher_acc),
            teacher_size=teacher_size,
            student_size=student_size,
            compression=teacher_size.n_bytes / student_size.n_bytes,
            parameter_compression=_ratio(teacher_size.n_parameters,
                                         student_size.n_parameters),
            teacher_latency_s=teacher_latency,
            student_latency_s=student_latency,
            speedup=teacher_latency / max(student_latency, 1e-9),
            timings_s=timings,
            details={
                "fusion": self.fusion,
                "teacher_weights": dict(zip(names, weights.mean(axis=0).tolist(),
                                            strict=True)),
                "soft_targets": self.soft_targets,
                "n_synthetic_rows": n_synthetic,
                "student_features": self.student_features_.tolist(),
                "temperature_schedule": self._temperature_schedule(
                    configuration.temperature),
                "chain": _chain_report(chain, Z_student, y_valid, teacher_pred,
                                       self.classes_),
                "chain_search": chain_search,
                "configuration": configuration.details,
                "candidates": [e.as_dict() for e in configuration.evaluations],
                "pareto_front": {
                    name: [e.as_dict() for e in pareto_front(
                        configuration.evaluations, cost)]
                    for name, cost in (("bytes", "n_bytes"),
                                       ("latency_ms", "latency_ms"))},
            },
        )

    def _temperature_schedule(self, temperature):
        history = getattr(self.student_[-1], "temperature_history_", None)
        if history is not None:
            return [float(t) for t in history]
        return [float(temperature)] if isinstance(temperature, Real) else []

    def predict_proba(self, X):
        """Class probabilities from the student alone.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to score, with every column seen in ``fit``; with
            ``student_features`` the student's columns are picked from them
            (``student_.predict_proba`` takes those columns alone).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        X = self._validate_input(X)
        return self.student_.predict_proba(self._student_columns(X))

    def predict(self, X):
        """Predicted class of each row, from the student alone.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to classify, with every column seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _seed(rng):
    return int(rng.randint(_SEED_SPACE))


def _reject_infinities(X):
    if hasattr(X, "select_dtypes"):
        values = X.select_dtypes(include="number").to_numpy(dtype=np.float64,
                                                             na_value=np.nan)
    else:
        values = X
    if np.isinf(values).any():
        raise ValueError("Input X contains infinity; replace it before fitting "
                         "(missing values may be NaN where the teachers accept it).")


def _stratified_split(y, fraction, rng):
    """Split row indices per class; every class keeps at least one training row."""
    train, valid = [], []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        n_valid = min(int(round(fraction * len(rows))), len(rows) - 1)
        valid.append(rows[:n_valid])
        train.append(rows[n_valid:])
    train, valid = np.sort(np.concatenate(train)), np.sort(np.concatenate(valid))
    if len(valid) == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves no validation row among "
            f"{len(y)} samples; give more samples or a larger fraction."
        )
    return train, valid


def _family_of(student):
    if isinstance(student, str):
        return student
    for family, cls in STUDENT_FAMILIES.items():
        if type(student) is cls:
            return family
    return "custom"


def _teacher_name(index, teacher):
    """``"index:ClassName"``, naming what adapters and frozen wrappers hold."""
    while isinstance(teacher, (_teachers.EncodedLabelsClassifier, FrozenEstimator)):
        teacher = teacher.estimator
    return f"{index}:{type(teacher).__name__}"


class _OutputCache:
    """One entry of the memory's cache of teacher outputs (see cached_output)."""

    def __init__(self, memory, tag, teachers, data):
        self.memory, self.tag, self.keys = memory, tag, None
        if (memory is None or not memory.active or not memory.cache
                or any(_fits_at_random(t) for t in teachers)):
            return
        teacher_keys = [fingerprint_estimator(t) for t in teachers]
        # The libraries that fit and run the teachers are part of the output.
        data_key = fingerprint_data((data, _library_versions()))
        if None not in teacher_keys and data_key is not None:
            self.keys = (fingerprint_data(teacher_keys), data_key)

    def get(self):
        """The stored output, or None."""
        if self.keys is None:
            return None
        return self.memory.cached_proba(*self.keys, self.tag)

    def put(self, output):
        """Store ``output``; return it."""
        output = np.asarray(output)
        if self.keys is not None:
            self.memory.store_proba(*self.keys, output, self.tag)
        return output


def _fits_at_random(teacher):
    """An unfitted teacher without a seed: its outputs differ from fit to fit."""
    if _teachers.is_fitted(teacher) or not hasattr(teacher, "get_params"):
        return False
    params = teacher.get_params()
    return any(value is None for key, value in params.items()
               if key.rsplit("__", 1)[-1] in ("random_state", "seed"))


def _library_versions():
    versions = []
    for name in ("sklearn", "lightgbm", "xgboost", "torch"):
        module = sys.modules.get(name)
        versions.append(getattr(module, "__version__", None))
    return tuple(versions)


def cached_output(memory, tag, teachers, data, compute):
    """``compute()``, or what it returned before for these teachers and data.

    The memory's cache is keyed by fingerprints of the teachers (their fitted
    state, or their parameters when unfitted) and of everything else the output
    depends on (``data``).
    """
    cache = _OutputCache(memory, tag, teachers, data)
    cached = cache.get()
    return cached if cached is not None else cache.put(compute())


def _capacity(size):
    """A model's capacity as the report counts it: parameters, else bytes / 4."""
    if size.n_parameters is not None:
        return float(size.n_parameters)
    return size.n_bytes / 4.0


def _chain_report(chain, Z_valid, y_valid, teacher_pred, classes):
    """Each step of the chain measured on the validation rows."""
    rows = []
    for index, step in enumerate(chain):
        predicted = classes[step.model.predict_proba(Z_valid).argmax(axis=1)]
        rows.append({
            "role": "student" if index == len(chain) - 1 else "assistant",
            "capacity": step.capacity,
            "accuracy": float(np.mean(predicted == y_valid)),
            "fidelity": fidelity(predicted, teacher_pred),
            "time_s": step.seconds,
        })
    return rows


def _ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


@contextmanager
def _timed(timings, phase):
    start = time.perf_counter()
    yield
    timings[phase] = time.perf_counter() - start


def _recorder(memory, meta, teachers):
    """A callback that records each rung of the search in the memory, or None."""
    if memory is None:
        return None
    run = uuid.uuid4().hex
    names = [_teacher_name(i, t) for i, t in enumerate(teachers)]

    def record(evaluations):
        for evaluation in evaluations:
            memory.record(evaluation.as_experiment(
                meta, f"{run}/rung{evaluation.rung}", names))

    return record


def _config_of(student):
    """What the memory records of a student the user gave."""
    family = _family_of(student)
    params = student.get_params(deep=False)
    if family == "mlp":
        return {"family": family,
                "size": [int(s) for s in np.ravel(params["hidden_layer_sizes"])]}
    if family == "lgbm":
        return {"family": family,
                "size": [int(params["n_estimators"]), int(params["num_leaves"])]}
    if family == "tree" and params["max_depth"] is not None:
        return {"family": family, "size": [int(params["max_depth"])]}
    return {"family": family}


def _latency_ms(student, X_valid):
    """Milliseconds of ``student.predict_proba`` on 1,000 validation rows."""
    rows = np.resize(np.arange(_num_samples(X_valid)), LATENCY_ROWS)
    return 1000.0 * predict_latency(student.predict_proba,
                                    _safe_indexing(X_valid, rows))
