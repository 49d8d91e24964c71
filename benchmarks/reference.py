"""The reference implementation, ``deepbridge-distillation``, run in its own venv.

``deepbridge-distillation`` (PyPI, by the paper's authors) pins its own versions
of scikit-learn, XGBoost and torch and pulls ``deepbridge`` with them, so it runs
in a separate virtual environment, never in the one that runs skdistill. Create
it once (about 3 GB with torch's CUDA wheels)::

    python -m benchmarks.reference --setup            # ~/.cache/skdistill-bench/refvenv
    python -m benchmarks.reference --setup /tmp/refvenv

The runner finds its interpreter in ``$SKDISTILL_REFERENCE_PYTHON``, then in
``~/.cache/skdistill-bench/refvenv`` and ``/tmp/refvenv``; with none there the
reference row records that failure.

What it is fed: its ``HPMDistiller(config=HPMConfig(random_state=seed,
verbose=False))`` with everything else at its defaults, ``fit(X_train, y_train,
X_val, y_val, teacher_probs=...)``, where ``teacher_probs`` are the probabilities
of the benchmark's fused teachers (the ones of skdistill's default fit, the same
for both) on ``X_train``, and ``X_val`` a stratified fifth of the training rows
(skdistill's ``validation_fraction``). It takes numeric arrays only: categorical
columns become their category codes and missing values the training median of
their column (:func:`to_numeric`). Timed: its ``fit``, and ``predict_proba`` of
its chosen model (``best_model``) on the same 10,000 rows as the other rows of
the table (best of 3), after one untimed fit on 200 rows that does the imports
its ``fit`` makes. Size: the pickled ``best_model``.

The child process is this file run as a script (``python -I reference.py --child
IN.npz OUT.json``); it imports nothing from skdistill.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

PACKAGE = "deepbridge-distillation"
DEFAULT_VENV = Path.home() / ".cache" / "skdistill-bench" / "refvenv"
SEARCHED = (DEFAULT_VENV, Path("/tmp/refvenv"))
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


def find_python():
    """The reference venv's interpreter, or None when there is none.

    Returns
    -------
    pathlib.Path or None
    """
    candidates = [os.environ.get("SKDISTILL_REFERENCE_PYTHON")]
    candidates += [venv / "bin" / "python" for venv in SEARCHED]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def setup(venv=DEFAULT_VENV):
    """Create the reference venv and install ``deepbridge-distillation`` in it.

    Parameters
    ----------
    venv : path-like
        Directory of the new virtual environment.

    Returns
    -------
    pathlib.Path
        Its interpreter.
    """
    venv = Path(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", PACKAGE], check=True)
    return python


def to_numeric(X_train, *others):
    """Numeric float arrays for the reference: category codes, training medians.

    Parameters
    ----------
    X_train : DataFrame
        Rows the medians come from.
    *others : DataFrame
        More rows, prepared the same way.

    Returns
    -------
    list of ndarray
        ``X_train`` then each of ``others``, as float64 without NaN.
    """
    frames = []
    for X in (X_train, *others):
        X = X.copy()
        for column in X.select_dtypes(include="category"):
            X[column] = X[column].cat.codes.where(X[column].notna())
        frames.append(X.to_numpy(dtype=float))
    medians = np.nanmedian(np.where(np.isnan(frames[0]).all(axis=0), 0.0,
                                    frames[0]), axis=0)
    return [np.where(np.isnan(X), medians, X) for X in frames]


def run(data, seed, python=None, timeout=1800):
    """Fit the reference on one split in its own process.

    Parameters
    ----------
    data : dict of ndarray
        ``X_train``, ``y_train``, ``X_val``, ``y_val``, ``teacher_probs`` (on
        ``X_train``), ``X_test`` and ``X_latency`` (the 10,000 timing rows).
    seed : int
        Its ``random_state``.
    python : path-like or None, default=None
        The venv's interpreter; None finds it with :func:`find_python`.
    timeout : float, default=1800
        Seconds before the child is stopped (a failure).

    Returns
    -------
    dict
        ``status`` ("ok" or "failed"), ``error`` (the reason, when failed), and
        when ok ``fit_s``, ``test_pred``, ``latency_s``, ``n_bytes``, ``model``
        (class of its chosen model), ``source`` (which of its phases won) and
        ``version``.
    """
    python = find_python() if python is None else Path(python)
    if python is None or not python.is_file():
        return {"status": "failed",
                "error": f"no reference environment ({PACKAGE} venv) found; "
                         "create it with `python -m benchmarks.reference "
                         "--setup`"}
    with tempfile.TemporaryDirectory(prefix="skdistill-ref-") as tmp:
        inputs, outputs = Path(tmp) / "in.npz", Path(tmp) / "out.json"
        np.savez(inputs, seed=seed, **data)
        try:
            done = subprocess.run(
                [str(python), "-I", str(Path(__file__).resolve()), "--child",
                 str(inputs), str(outputs)],
                capture_output=True, text=True, timeout=timeout,
                env={**os.environ, **ONE_THREAD}, check=False)
        except subprocess.TimeoutExpired:
            return {"status": "failed", "error": f"timed out after {timeout} s"}
        if not outputs.is_file():
            lines = (done.stderr or done.stdout or "no output").strip().splitlines()
            return {"status": "failed",
                    "error": f"exit code {done.returncode}: {lines[-1]}"}
        result = json.loads(outputs.read_text())
    if result["status"] == "ok":
        result["test_pred"] = np.asarray(result["test_pred"])
    return result


def _child(inputs, outputs):
    """Fit, time and measure the reference (runs inside its venv)."""
    import logging
    import pickle
    from importlib.metadata import version

    logging.disable(logging.CRITICAL)
    result = {"status": "failed"}
    try:
        result["version"] = version(PACKAGE)
        _one_thread()
        from deepbridge_distillation.techniques.hpm import HPMConfig, HPMDistiller

        data = np.load(inputs)
        seed = int(data["seed"])
        _warm_up(HPMDistiller(config=HPMConfig(random_state=seed, verbose=False)),
                 data)
        distiller = HPMDistiller(config=HPMConfig(random_state=seed, verbose=False))
        start = time.perf_counter()
        distiller.fit(data["X_train"], data["y_train"], data["X_val"],
                      data["y_val"], teacher_probs=data["teacher_probs"])
        result["fit_s"] = time.perf_counter() - start
        result["test_pred"] = np.asarray(distiller.predict(data["X_test"])).tolist()
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            distiller.predict_proba(data["X_latency"])
            best = min(best, time.perf_counter() - start)
        result.update(
            latency_s=best, n_bytes=len(pickle.dumps(distiller.best_model,
                                                      protocol=5)),
            model=type(distiller.best_model).__name__,
            source=distiller.best_metrics.get("source"), status="ok")
    except Exception as error:  # any failure is the result, recorded
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        result["error"] = last
    Path(outputs).write_text(json.dumps(result))


def _warm_up(distiller, data, n_rows=200):
    """One untimed fit on a slice: imports done inside ``fit`` are not timed."""
    with contextlib.suppress(Exception):  # the timed fit reports any failure
        distiller.fit(data["X_train"][:n_rows], data["y_train"][:n_rows],
                      data["X_val"][:n_rows], data["y_val"][:n_rows],
                      teacher_probs=data["teacher_probs"][:n_rows])


def _one_thread():
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def main(argv=None):
    """``--setup [VENV]`` creates the venv; ``--child IN OUT`` is the worker."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", nargs="?", const=str(DEFAULT_VENV),
                        metavar="VENV", help="create the venv (default "
                        f"{DEFAULT_VENV}) and install {PACKAGE} in it")
    parser.add_argument("--child", nargs=2, metavar=("IN", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
    elif args.setup:
        print(setup(args.setup))
    else:
        print(find_python() or "no reference environment found")


if __name__ == "__main__":
    main()
