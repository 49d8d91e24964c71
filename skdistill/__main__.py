"""Command line: ``python -m skdistill demo [--task regression]``.

The demo distils a gradient-boosting teacher into the compact student that
:class:`~skdistill.HPMDistiller` configures, on scikit-learn's bundled
handwritten digits (no download), or with ``--task regression`` a 200-tree
random forest into :class:`~skdistill.HPMRegressor`'s default student on
scikit-learn's bundled diabetes data (disease progression, 442 rows); it
prints each phase of the fit as it ends (the ``skdistill`` logger at INFO),
then the report, plus the score (accuracy, or R²) on a test split that
nothing in the fit saw.
"""

import argparse
import logging
import sys
import time
from contextlib import contextmanager


def demo(random_state=0, task="classification"):
    """Distil the default teacher on a bundled dataset and print what happened.

    Parameters
    ----------
    random_state : int, default=0
        Seeds the test split and the fit.
    task : {"classification", "regression"}, default="classification"
        The digits with :class:`HPMDistiller`, or the diabetes data with
        :class:`HPMRegressor`.

    Returns
    -------
    HPMDistiller or HPMRegressor
        The fitted estimator.
    """
    if task == "regression":
        return _regression_demo(random_state)
    return _classification_demo(random_state)


def _classification_demo(random_state):
    """The digits, HPMDistiller's default teacher and configured student."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from . import HPMDistiller

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state)
    print(f"digits: {len(X_train)} training rows, {len(X_test)} test rows, "
          f"{X.shape[1]} features, 10 classes; the fit's phases as they end:")
    start = time.perf_counter()
    with _phases_printed():
        distiller = HPMDistiller(random_state=random_state).fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    teacher = distiller.teachers_[0]
    student = distiller.student_[-1]
    print(f"fit in {elapsed:.1f} s; teacher: {type(teacher).__name__}; the "
          f"configuration chose the student {type(student).__name__}: {student!r}")
    print(distiller.report_)
    print(f"test accuracy: teacher {teacher.score(X_test, y_test):.4f}, "
          f"student {distiller.score(X_test, y_test):.4f}")
    return distiller


def _regression_demo(random_state):
    """The diabetes data, a random forest teacher, HPMRegressor's default
    student."""
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    from . import HPMRegressor

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state)
    print(f"diabetes: {len(X_train)} training rows, {len(X_test)} test rows, "
          f"{X.shape[1]} features, a numeric target; the fit's phases as they "
          f"end:")
    start = time.perf_counter()
    with _phases_printed():
        forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=5,
                                       random_state=random_state)
        regressor = HPMRegressor(forest, random_state=random_state).fit(
            X_train, y_train)
    elapsed = time.perf_counter() - start
    teacher = regressor.teachers_[0]
    student = regressor.student_[-1]
    print(f"fit in {elapsed:.1f} s; teacher: {type(teacher).__name__}; the "
          f"student: {type(student).__name__}: {student!r}")
    print(regressor.report_)
    teacher_r2 = r2_score(y_test, regressor.teacher_predict(X_test))
    print(f"test R²: teacher {teacher_r2:.4f}, "
          f"student {regressor.score(X_test, y_test):.4f}")
    return regressor


@contextmanager
def _phases_printed():
    """Within the block, the fit's INFO records (its phases) go to stdout."""
    logger = logging.getLogger("skdistill")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv=None):
    """Entry point of ``python -m skdistill``."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skdistill",
        description="skdistill: knowledge distillation for tabular data. "
                    "'python -m skdistill demo' distils a gradient-boosting "
                    "teacher into the compact student that the adaptive "
                    "configuration chooses, on scikit-learn's bundled "
                    "handwritten digits (no download), and prints the report and "
                    "the accuracy on a test split that nothing in the fit saw; "
                    "'--task regression' distils a random forest with "
                    "HPMRegressor on scikit-learn's bundled diabetes data (R²).")
    parser.add_argument("--version", action="version",
                        version=f"skdistill {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="distil a teacher on a bundled dataset and print the report")
    demo_parser.add_argument("--random-state", type=int, default=0)
    demo_parser.add_argument(
        "--task", choices=("classification", "regression"),
        default="classification",
        help="classification: the digits (HPMDistiller); regression: the "
             "diabetes data (HPMRegressor)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.random_state, args.task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
