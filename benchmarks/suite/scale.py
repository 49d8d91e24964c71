"""Scale: ``HPMDistiller()`` at growing shares of one dataset, a process per size.

Each size is fitted in a child process (``python -m benchmarks.run
--scale-child ...``), so that its peak resident memory is its own.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..common import ROOT, describe_student, log, write_json
from ..datasets import load
from .fit import Split, failed, fit_distiller, make_teachers


def run_scale(dataset, fractions, options):
    """Fit time and peak memory of HPMDistiller() against training rows.

    Parameters
    ----------
    dataset : str
    fractions : sequence of float
        Shares of the training rows, one child process each.
    options : argparse.Namespace
        The run's options, handed to the children.

    Returns
    -------
    list of dict
        One point per fraction: its figures, or its status and why.
    """
    points = []
    for fraction in fractions:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "scale.json"
            done = subprocess.run(_child_command(dataset, fraction, out, options),
                                  cwd=ROOT, capture_output=True, text=True,
                                  check=False)
            if out.is_file():
                point = json.loads(out.read_text())
            else:
                lines = (done.stderr or "no output").strip().splitlines()
                point = {"status": "failed", "error": lines[-1][:300]}
        points.append({"dataset": dataset, "fraction": fraction, **point})
        log(f"  scale {dataset} {fraction:.0%}: " + (
            f"{point['n_train']} rows, fit {point['fit_s']:.1f}s, peak "
            f"{point['peak_rss_mb']:.0f} MB" if point["status"] == "ok"
            else point["error"]))
    return points


def _child_command(dataset, fraction, out, options):
    command = [sys.executable, "-m", "benchmarks.run", "--scale-child",
               dataset, str(fraction), str(out), "--suite", options.suite,
               "--seeds", str(options.seeds[0])]
    if options.explicit_max_rows is not None:
        command += ["--max-rows", str(options.explicit_max_rows)]
    if options.teacher_estimators is not None:
        command += ["--teacher-estimators", str(options.teacher_estimators)]
    return command


def scale_child(dataset, fraction, out, options):
    """One scale point, in its own process; writes its JSON to ``out``.

    Parameters
    ----------
    dataset : str
    fraction : float
        Share of the training rows kept (stratified).
    out : path-like
    options : argparse.Namespace
    """
    import resource

    try:
        seed = options.seeds[0]
        # All rows unless --max-rows says otherwise: the suite's caps are the
        # table's.
        X, y, _ = load(dataset, options.explicit_max_rows, random_state=seed)
        split = Split(X, y, seed, options.latency_rows)
        if fraction < 1:
            keep, _ = train_test_split(np.arange(len(split.y_train)),
                                       train_size=fraction,
                                       stratify=split.y_train, random_state=seed)
            split.X_train = split.X_train.iloc[keep]
            split.y_train = split.y_train[keep]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        distiller, fit_s = fit_distiller(
            split, make_teachers(seed, options.teacher_estimators), {}, seed)
        point = {
            "status": "ok", "n_train": len(split.y_train), "fit_s": fit_s,
            "phases_s": dict(distiller.report_.timings_s),
            "accuracy": float(distiller.score(split.X_test, split.y_test)),
            "student": describe_student(distiller.student_[-1]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            / 1024, "rss_before_fit_mb": rss_before}
    except Exception as error:
        point = failed(error)
    write_json(out, point, indent=None, end="")
