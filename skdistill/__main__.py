"""Command line: ``python -m skdistill demo``.

The demo distils a gradient-boosting teacher into the compact student that the
adaptive configuration chooses, on scikit-learn's bundled handwritten digits (no
download), prints each phase of the fit as it ends (the ``skdistill`` logger at
INFO), then the report, plus accuracy on a test split that nothing in the fit
saw.
"""

import argparse
import logging
import sys
import time
from contextlib import contextmanager


def demo(random_state=0):
    """Distil the default teacher on the digits data and print what happened."""
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
                    "the accuracy on a test split that nothing in the fit saw.")
    parser.add_argument("--version", action="version",
                        version=f"skdistill {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="distil a teacher on the digits data and print the report")
    demo_parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
