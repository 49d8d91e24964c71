"""HPMRegressor: what is specific to regression, its parameters, little else.

The steps of ``fit`` are shared with every task in :mod:`._base`; the
regression answers to what they ask are :class:`~._task.RegressionTask`'s.
"""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._base import BaseDistiller
from ._shared_params import keep_params
from ._task import RegressionTask
from ._teachers import default_regression_teacher
from .students import REGRESSION_STUDENT_FAMILIES


class HPMRegressor(RegressorMixin, BaseDistiller):
    """Distil one or several regression teachers into a compact student.

    The regression twin of :class:`HPMDistiller`: the teachers (fitted or not;
    scikit-learn, XGBoost, LightGBM, a ``Pipeline``, a trained torch module)
    predict the training rows out of fold, their predictions are fused, and a
    small student learns ``alpha * teachers + (1 - alpha) * y``. At inference
    only the student runs.

    There is no ``temperature`` parameter: a prediction is one number, with no
    distribution to soften.

    Parameters
    ----------
    teachers : estimator, list of estimators or of (str, estimator), or None, \
            default=None
        ``None`` fits a :class:`~sklearn.ensemble.HistGradientBoostingRegressor`.
        Fitted teachers are used as they are (wrap them in
        :class:`~sklearn.frozen.FrozenEstimator` to keep them through
        :func:`~sklearn.base.clone`); unfitted ones are cloned and fitted.
        Named as in :class:`HPMDistiller`. A trained ``torch.nn.Module``
        mapping float32 features to one output per row is accepted too. A
        classifier is refused with a ``TypeError``.
    student : {"auto", "mlp", "tree", "lgbm", "xgb", "linear"} or estimator, \
            default="lgbm"
        ``"auto"`` chooses the family, size, alpha and training by a search
        (see Notes). Otherwise the student family
        (:data:`~skdistill.students.REGRESSION_STUDENT_FAMILIES`:
        :class:`~skdistill.students.MLPRegressionStudent`,
        :class:`~skdistill.students.TreeRegressionStudent`,
        :class:`~skdistill.students.LGBMRegressionStudent`,
        :class:`~skdistill.students.XGBRegressionStudent`,
        :class:`~skdistill.students.LinearRegressionStudent`), or a student
        instance: a regressor whose ``fit`` takes ``soft_targets`` and
        ``alpha``.
    alpha : float or "auto", default="auto"
        Weight of the teachers' predictions against the true target, in
        [0, 1]; ``"auto"``, for a given student, is 0.7 unless the student
        fitted on the true target alone (alpha 0) scores strictly higher on
        the selection rows (two fits of it, one of which the augmentation
        check then reuses; ``report_.details["configuration"]
        ["distillation_check"]``); searched with ``student="auto"``.
    fusion : {"attention", "mean", "accuracy"}, default="attention"
        How several teachers' predictions become one target: a gate giving
        per-sample weights from the row's features, the teachers' predictions
        and their disagreement, fitted against the true target with a squared
        loss; the plain mean; or global weights proportional to each teacher's
        inverse squared error. Learned on the out-of-fold predictions.
    soft_targets : {"oof", "in_sample"}, default="oof"
        As in :class:`HPMDistiller`: the targets on the training rows of the
        teachers fitted here come from copies cross-fitted on ``cv`` folds.
    prefit_teachers : {"auto", "as_is", "cross_fit"}, default="auto"
        As in :class:`HPMDistiller`: prefit teachers predict the training rows
        as they are (``"as_is"``), through copies of their unfitted twins
        cross-fitted on ``cv`` folds (``"cross_fit"``, for teachers fitted on
        those rows), or (``"auto"``) through the copies only for the teachers
        whose squared error on the rows shows that they memorised them.
    cv : int, default=5
        Folds of the cross-fitted copies (stratified by quantile of ``y``). A
        bagged scikit-learn forest is fitted once instead and labels the rows
        out of bag, as in :class:`HPMDistiller`. The rows the fit chooses on
        (also with the named student's ``alpha="auto"``) are held out of every
        copy, as in :class:`HPMDistiller`.
    chain : "auto", bool or int, default=False
        Assistants between the teachers and the student (progressive
        distillation, as in :class:`HPMDistiller`): copies of the student's
        family (MLP, tree with ``max_depth`` or ``max_leaf_nodes``, LightGBM,
        XGBoost) at geometrically shrinking sizes; each later step learns
        ``0.5 * previous step's predictions + 0.5 * fused teachers``. An int
        fixes how many, ``False`` (or 0) trains the student alone, ``"auto"``
        (or ``True``) holds out a fifth of the real training rows and adds
        assistants one at a time while each raises the student's R² against
        the teachers there by at least ``chain_min_improvement``, then refits
        the chosen chain on all rows. ``report_.details["chain"]`` lists the
        steps (capacity, R², fidelity, seconds). Off by default (see Notes).
    chain_min_improvement : float, default=0.005
        Gain in selection R² against the teachers that earns ``chain="auto"``
        one more assistant.
    augment : None, "munge", "auto" or float, default="auto"
        MUNGE rows labelled by the fused teachers, as in
        :class:`HPMDistiller`; ``"auto"`` keeps them only if they raise the
        student's R² on a selection split of the training rows.
    augment_ratio : float or "auto", default=4.0
        Synthetic rows per training row for ``augment="munge"`` or ``"auto"``,
        as in :class:`HPMDistiller`: ``"auto"`` chooses it among 4, 16 and 64
        on the selection split (by R²) for a configured
        :class:`~skdistill.students.MLPRegressionStudent` (the choice in
        ``report_.details["configuration"]["augment_ratio_check"]``), and is
        4 for any other student.
    validation_fraction : float, default=0.2
        Fraction of the training rows held out (stratified by quantile of
        ``y``) to measure the report.
    final_rows : {"train", "all"}, default="all"
        The rows the served student learns from. ``"train"``: the training
        rows, without the ``validation_fraction`` that measures the report.
        ``"all"``: once the report is measured, the student (same
        configuration, chain, synthetic-row ratio and seed) is refitted on
        every row, the validation rows labelled by the fused teachers, which
        were fitted without them (prefit teachers label them as they are), and
        MUNGE rows made from every row; the teachers are not refitted. The
        report still describes the student fitted without the validation rows
        (``report_.details["final_rows"]`` says so and counts the rows of the
        refit). With ``X_val`` given, every row of ``X`` trains already and
        ``X_val``'s rows never train: nothing is refitted. Under a
        ``time_limit`` the refit is skipped when it would not fit.
    min_compression : float or None, default=10.0
        With ``student="auto"``: candidates must be at least this many times
        smaller (serialized bytes, and parameters when the teachers' are known)
        than the teachers, as in :class:`HPMDistiller`.
    student_preprocessor : transformer, "passthrough" or None, default=None
        As in :class:`HPMDistiller`.
    student_features : array-like of str, int or bool, or None, default=None
        As in :class:`HPMDistiller`.
    memory : None, str, path or OptimizationMemory, default=None
        As in :class:`HPMDistiller`: caches the teachers' outputs and records
        the fit and the search's evaluations as experiments, marked
        ``dataset["task"] == "regression"``; the ranker of a regression task
        reads regression experiments only, and never ranks a classification
        task with them.
    search_budget : int or None, default=12
        With ``student="auto"``: the most candidate fits of the successive
        halving on a selection split of the training rows (None or 0: the
        first ranked candidate, unsearched); fewer on small data, the plain
        LightGBM's challenge and the size check on at least 1,000 selection
        rows (both on R² row by row), as in :class:`HPMDistiller`.
    max_student_bytes, max_latency_ms : float or None, default=None
        Serving budget: a student over it gives a warning (latency of
        ``predict``, or of its ONNX graph: ``latency_measure``).
    latency_measure : {"python", "onnx"}, default="python"
        As in :class:`HPMDistiller`: ``"onnx"`` times the student's ONNX graph
        run by onnxruntime (the search's candidates, the report, the
        ``max_latency_ms`` warning) instead of ``student_.predict``.
    time_limit : float or None, default=None
        Seconds the whole fit may take (AutoGluon's ``time_limit``). The
        teachers and the final student always run; a prefit teacher's
        cross-fitted copies (``prefit_teachers="auto"``) only when one of them,
        timed, says they take at most half of the time left; the configuration
        search (rung by rung, the first while a quarter of the limit is left), its
        distil-or-not check, the augmentation check and the chain search run
        only when their cost, estimated from the fits measured so far, fits in
        what is left with the final student's fit. What was cut is in
        ``report_.details["time_limit"]`` and logged. A fit may overrun the
        limit by the teachers' fit, the first rung of the search (nothing
        measured yet) and the final student's fit.
    n_jobs : int or None, default=None
        Parallel jobs for fitting and querying teachers (joblib semantics).
        With ``None``, one job, and its thread pools (OpenMP, BLAS, torch) are
        capped to the cores that the machine's other work leaves free (the
        cores less the CPU time of other processes on them, read from
        ``/proc/stat`` on Linux and from the 1-minute load average elsewhere;
        at least one; logged): OpenMP pools spinning on busy cores made a
        default fit several times slower.
        Any other value leaves the threads to the jobs.
    random_state : int, RandomState instance or None, default=None
        Seeds the splits, the teachers fitted here and the student.
    verbose : int, default=0
        As in :class:`HPMDistiller`.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Device of torch students.

    Attributes
    ----------
    student_ : Pipeline
        The student with its preprocessing: usable alone on raw rows.
    teachers_ : list of estimators
        The teachers used; prefit ones are the very objects given.
    teacher_names_ : ndarray of str
        The teachers' names, in the order of ``teachers_``.
    named_teachers_ : Bunch
        The fitted teachers by name.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen in ``fit``, when ``X`` has column names.
    student_features_ : ndarray
        The columns ``student_`` takes, in its order.
    fusion_ : object
        The fitted fusion of the teachers (see ``teacher_weights``).
    report_ : RegressionReport
        R², RMSE and MAE of the fused teachers and of the student on the
        validation rows, each teacher's R², fidelity (R² of the student
        against the teachers), retention (student R² / teacher R²), sizes,
        compression, latencies, speed-up and timings.

    See Also
    --------
    HPMDistiller : The classification distiller.

    Notes
    -----
    Each regression student standardizes the target it learns and predicts
    in the units of ``y``.

    The chain is off by default, as for :class:`HPMDistiller`: with a
    300-tree forest teacher and two small students on two datasets, 3 seeds,
    assistants moved test R² by -0.007 to +0.004, within the spread over
    seeds, and ``"auto"`` kept none (``python -m benchmarks.regression_chain``,
    ``benchmarks/README.md``).

    ``student="auto"`` searches the regression students' candidate space
    (MLP, LightGBM, tree and linear students, their sizes, learning rates
    and alphas, and each structure without distillation) within
    ``min_compression`` and the serving limits, racing candidates by
    successive halving on a selection split of the training rows, scored by
    R² with each squared error taken half against ``y`` and half against the
    fused teachers' prediction (the selection score; the validation rows of
    ``report_`` are never used);
    ``report_.details["candidates"]`` lists the evaluations. The candidates
    enter the race in the order of a ranker learned from the package's
    regression prior (``skdistill/data/regression_prior.json``, regenerated by
    ``python -m benchmarks.make_regression_prior``: 9 regression datasets,
    none of the regression suite's) and the memory's regression experiments.

    The default student is ``"lgbm"``, not ``"auto"``: on four regression
    datasets that neither the prior nor the suite uses, 3 seeds, the search
    was not better than the LightGBM student (``benchmarks/README.md``,
    ``python -m benchmarks.regression_auto``).

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skdistill import HPMRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> regressor = HPMRegressor(student="linear", random_state=0).fit(X, y)
    >>> regressor.predict(X[:2]).shape
    (2,)
    >>> regressor.report_.student_r2 > 0.3
    True
    """

    # A teacher's prediction is one more estimate of the same number, with no
    # class similarities to add: on two of the regression suite's five datasets
    # (ames, concrete) the default student fitted on y alone was more accurate
    # than distilled, so a named student's alpha="auto" is chosen.
    _distil_or_not_for_named_students = True

    _parameter_constraints: dict = {
        **BaseDistiller._parameter_constraints,
        "student": [StrOptions({"auto", *REGRESSION_STUDENT_FAMILIES}),
                    HasMethods(["fit", "predict"])],
    }

    def __init__(
        self,
        teachers=None,
        student="lgbm",
        *,
        alpha="auto",
        fusion="attention",
        soft_targets="oof",
        prefit_teachers="auto",
        cv=5,
        chain=False,
        chain_min_improvement=0.005,
        augment="auto",
        augment_ratio=4.0,
        validation_fraction=0.2,
        final_rows="all",
        min_compression=10.0,
        student_preprocessor=None,
        student_features=None,
        memory=None,
        search_budget=12,
        max_student_bytes=None,
        max_latency_ms=None,
        latency_measure="python",
        time_limit=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
        device="auto",
    ):
        keep_params(self, locals())

    def _check_target(self, X, y):
        """A numeric, finite target."""
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "Unknown label type: HPMRegressor needs a numeric target; got y "
                f"of dtype {y.dtype} (for class labels use HPMDistiller)."
            ) from None
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity; HPMRegressor "
                             "needs a finite target.")
        return y, RegressionTask()

    def _set_task_attributes(self, task):
        pass  # a regressor has no fitted attribute of its task

    @staticmethod
    def _default_teacher(seed):
        return default_regression_teacher(seed)

    def _check_temperature_fits_student(self):
        pass  # no temperature

    def teacher_predict(self, X):
        """The fused teachers' predictions, the targets the student learns from.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._validate_input(X)
        fused = self._fused_teachers()
        return self.fusion_.fuse(fused.gate_inputs(X), fused.outputs(X))[:, 0]

    def predict(self, X):
        """Predicted target of each row, from the student alone.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to predict, with every column seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._validate_input(X)
        return self.student_.predict(self._student_columns(X))
