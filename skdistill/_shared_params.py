"""The parameters both estimators take: their constraints, and how they are kept.

:class:`~skdistill.HPMDistiller` and :class:`~skdistill.HPMRegressor` declare
their common parameters once, here (``BaseDistiller._parameter_constraints``);
each adds its own (``student``'s families; the classifier's temperature)
and stores its ``__init__``'s arguments with :func:`keep_params`.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

SHARED_CONSTRAINTS = {
    "teachers": "no_validation",  # named_teachers: clear errors before work
    "alpha": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
    "fusion": [StrOptions({"attention", "mean", "accuracy"})],
    "soft_targets": [StrOptions({"oof", "in_sample"})],
    "prefit_teachers": [StrOptions({"cross_fit", "as_is", "auto"})],
    "cv": [Interval(Integral, 2, None, closed="left")],
    "chain": [StrOptions({"auto"}), "boolean",
              Interval(Integral, 0, None, closed="left")],
    "chain_min_improvement": [Interval(Real, 0, 1, closed="both")],
    "augment": [None, StrOptions({"munge", "auto"}),
                Interval(Real, 0, None, closed="neither")],
    "augment_ratio": [Interval(Real, 0, None, closed="neither"),
                      StrOptions({"auto"})],
    "final_rows": [StrOptions({"train", "all"})],
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
    "latency_measure": [StrOptions({"python", "onnx"})],
    "time_limit": [None, Interval(Real, 0, None, closed="neither")],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "device": [StrOptions({"auto", "cpu", "cuda"})],
}


def keep_params(estimator, params):
    """Store an ``__init__``'s arguments (its ``locals()``) as they are.

    scikit-learn's convention: ``__init__`` only keeps its parameters, under
    their names; the two estimators share most of them.
    """
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)
