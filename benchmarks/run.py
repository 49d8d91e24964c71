"""The tabular benchmark suite: HPMDistiller beside its baselines and the reference.

One command regenerates the published results::

    python -m benchmarks.run --suite quick   # minutes on 2 cores
    python -m benchmarks.run --suite medium  # every dataset, 2,000 rows each (2 h)
    python -m benchmarks.run --suite full    # all rows; diamonds, flights 10k (3 h)

It writes ``suite_<name>.json`` (every fit, the summaries, where the targets
stand), ``suite_<name>.md`` (the tables) and ``suite_<name>_*.png`` (plots) under
``--out`` (default ``benchmarks/results``); ``--update-readme`` puts the headline
table in the top-level README. ``--help`` lists the options that shrink a run.

Protocol
    Datasets and their preprocessing: ``benchmarks/datasets.py``. Per seed, a
    stratified 75/25 train/test split (after an optional stratified sample of
    ``max_rows`` rows, drawn with the same seed). The test rows are only scored:
    every choice (HPMDistiller's validation split, its gate, early stopping, the
    reference's model selection) comes from the training rows. Everything runs on
    one thread: ``n_jobs=1``, one torch thread, BLAS and OpenMP capped with
    threadpoolctl (the reference's process too), nothing in parallel.

Teachers (the same three, unfitted, for every distiller that uses three)
    ``XGBClassifier(enable_categorical=True, tree_method="hist")``,
    ``LGBMClassifier()`` and ``RandomForestClassifier()`` behind an
    ``OrdinalEncoder`` of the category columns (it takes no categories), all at
    their library defaults (100 trees each) with ``random_state=seed``.
    HPMDistiller fits them itself (on its training part, and cross-fitted for
    out-of-fold targets and the gate).

Rows of the table (one fit per dataset and seed each)
    - ``teachers (fused)``: the three teachers fused by the attention gate of the
      ``HPMDistiller()`` fit; ``teacher: <name>``: each of them alone.
    - ``HPMDistiller()``: all defaults (``student="auto"``, an MLP at least 10x
      smaller than the teachers); fitted first: its student's architecture is the
      one every baseline below uses (``clone(student_[-1])``: the same layers,
      epochs and early stopping), so rows differ by what the student learns from.
    - ``direct (alpha=0)``: the same student on the hard labels only
      (``alpha=0``, no augmentation, no chain; the teachers are still fitted, so
      its fit time includes them).
    - ``plain KD``: Hinton et al. (2015) with one teacher (XGBoost):
      ``temperature=4.0``, ``alpha=0.7``, the teacher's in-sample outputs as
      targets (``soft_targets="in_sample"``), no augmentation, no chain.
    - ``TAKD``: plain KD through one teacher assistant (Mirzadeh et al., 2020):
      the same with ``chain=1``.
    - ``HPMDistiller(<param>=<value>)``: the defaults with one component switched:
      off where it is on by default (``fusion="mean"``, ``temperature=2.0``,
      ``soft_targets="in_sample"``), on where it is off (``augment="munge"``,
      ``chain="auto"``). A switch the installed version lacks is a "skipped" row.
    - ``reference: deepbridge-distillation``: see ``benchmarks/reference.py``;
      a failure is a row with its reason, never dropped.

Columns (test rows; mean ± std over seeds)
    accuracy; Δ accuracy against ``HPMDistiller()`` (paired by seed); retention
    (accuracy / the fused teachers' accuracy of the same seed); fidelity
    (agreement with the fused teachers' test predictions: the same reference for
    every row); compression (serialized bytes of the three teachers together /
    the row's model with its preprocessing, and the same ratio in parameters:
    tree nodes against weights; for the default rows the bytes ratio equals
    ``report_.compression``); predict speed-up (``predict_proba`` of the fused
    teachers / of the row's model, on the same 10,000 test rows drawn with
    replacement, best of 3, measured in the same process and run); fit wall time
    of the whole ``fit`` (teachers included) and without the teachers' own fit.

Compression curve
    Students of one hidden layer sized to be about 10x, 100x and 1000x smaller
    than the three teachers in parameters (the width that gives
    ``teacher nodes / ratio`` weights; the measured ratios, in bytes too, are
    reported), each trained four ways at the same size: direct (``alpha=0``),
    plain KD, ``HPMDistiller()`` and ``HPMDistiller(augment="munge")`` (the
    synthetic transfer set Bucila et al., 2006, found critical). "Gap closed" =
    (acc_distilled - acc_direct) / (acc_teacher - acc_direct), on means over
    seeds, wherever direct loses at least 1 point to the fused teachers.

Scale (full suite)
    ``HPMDistiller()`` on 10 %, 30 % and 100 % of flights' training rows, each fit
    in its own process so that its peak resident memory is its own.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits
from xgboost import XGBClassifier

from skdistill import HPMDistiller, MLPStudent
from skdistill.metrics import model_size, predict_latency

from . import reference
from .datasets import DATASETS, describe, load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
COMMAND = "python -m benchmarks.run"
TEST_SIZE = 0.25
LATENCY_ROWS = 10_000
README_START = "<!-- benchmark-headline:start -->"
README_END = "<!-- benchmark-headline:end -->"

SUITES = {
    "quick": {
        "datasets": ("mlc_churn", "hpc_data", "digits"),
        "seeds": (0, 1),
        "max_rows": 1000,
        "row_caps": {},
        "curve_datasets": ("digits",),
        "curve_ratios": (100,),
        "scale": None,
    },
    # The full suite's datasets, seeds, curve and scale, on samples of 2,000 rows
    # per dataset (the scale section still fits flights on all rows): about two
    # hours on one core, where the full suite takes many.
    "medium": {
        "datasets": tuple(DATASETS),
        "seeds": (0, 1, 2),
        "max_rows": 2000,
        "row_caps": {},
        "curve_datasets": ("digits", "diamonds", "hpc_data", "mlc_churn", "email"),
        "curve_ratios": (10, 100, 1000),
        "scale": ("flights", (0.1, 0.3, 1.0)),
    },
    "full": {
        "datasets": tuple(DATASETS),
        "seeds": (0, 1, 2),
        "max_rows": None,
        # The table fits each dataset 13 times per seed (and diamonds 12 more in
        # the curve): on 2 cores the two large ones would take most of a day
        # at all rows, so the table samples 10,000 of each (--max-rows 400000
        # lifts the caps); the scale section fits flights on all rows.
        "row_caps": {"diamonds": 10_000, "flights": 10_000},
        # Chosen before any result of HPMDistiller on them (benchmarks/README.md).
        "curve_datasets": ("digits", "diamonds", "hpc_data", "mlc_churn", "email"),
        "curve_ratios": (10, 100, 1000),
        "scale": ("flights", (0.1, 0.3, 1.0)),
    },
}

TEACHER_NAMES = ("XGBoost", "LightGBM", "RandomForest")
FUSED = "teachers (fused)"
DEFAULT = "HPMDistiller()"
DIRECT = "direct (alpha=0)"
PLAIN_KD = "plain KD (XGBoost, T=4, alpha=0.7)"
TAKD = "TAKD (plain KD + 1 assistant)"
REFERENCE = "reference: deepbridge-distillation"
HPM_MUNGE = "HPMDistiller(augment='munge')"
# Baselines: (teachers: "all" or "xgb", HPMDistiller parameters).
BASELINES = {
    DIRECT: ("all", {"alpha": 0.0, "augment": None, "chain": False}),
    PLAIN_KD: ("xgb", {"temperature": 4.0, "alpha": 0.7,
                       "soft_targets": "in_sample", "augment": None,
                       "chain": False}),
    TAKD: ("xgb", {"temperature": 4.0, "alpha": 0.7, "soft_targets": "in_sample",
                   "augment": None, "chain": 1}),
}
# Components: (parameter, on, off). The ablation row switches the default: to
# "off" unless the default already is "off", then to "on".
COMPONENTS = (
    ("fusion", "attention", "mean"),
    ("temperature", "auto", 2.0),
    ("soft_targets", "oof", "in_sample"),
    ("augment", "munge", None),
    ("chain", "auto", False),
)
CURVE_METHODS = {
    "direct": ("all", {"alpha": 0.0, "augment": None, "chain": False}),
    "plain KD": BASELINES[PLAIN_KD],
    DEFAULT: ("all", {}),
    HPM_MUNGE: ("all", {"augment": "munge"}),
}
METRICS = ("accuracy", "retention", "fidelity", "compression",
           "compression_parameters", "speedup", "fit_s", "fit_s_without_teachers")


def _log(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------
# teachers, splits and one fit


def make_teachers(seed, n_estimators=None, which="all"):
    """The unfitted teachers: XGBoost, LightGBM and an encoded RandomForest.

    Parameters
    ----------
    seed : int
        ``random_state`` of each.
    n_estimators : int or None, default=None
        Trees of each (None: the libraries' defaults, 100).
    which : {"all", "xgb"}, default="all"
        All three, or XGBoost alone (plain KD's teacher).

    Returns
    -------
    list of estimators
    """
    size = {} if n_estimators is None else {"n_estimators": n_estimators}
    xgb = XGBClassifier(n_jobs=1, random_state=seed, enable_categorical=True,
                        tree_method="hist", **size)
    if which == "xgb":
        return [xgb]
    codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    forest = make_pipeline(
        make_column_transformer(
            (codes, make_column_selector(dtype_include="category")),
            remainder="passthrough", verbose_feature_names_out=False),
        RandomForestClassifier(n_jobs=1, random_state=seed, **size))
    return [xgb, LGBMClassifier(n_jobs=1, random_state=seed, verbose=-1, **size),
            forest]


class Split:
    """One seed's train/test split and the 10,000 timing rows."""

    def __init__(self, X, y, seed, latency_rows=LATENCY_ROWS):
        self.seed = seed
        (self.X_train, self.X_test, self.y_train,
         self.y_test) = train_test_split(X, y, test_size=TEST_SIZE, stratify=y,
                                         random_state=seed)
        rows = np.random.default_rng(seed).integers(0, len(self.X_test),
                                                    latency_rows)
        self.X_latency = self.X_test.iloc[rows]


class Teachers:
    """What every row is measured against: the fused teachers of the default fit.

    Parameters
    ----------
    distiller : HPMDistiller
        The fitted ``HPMDistiller()``.
    split : Split
    """

    def __init__(self, distiller, split):
        proba = distiller.teacher_proba(split.X_test)
        self.pred = distiller.classes_[proba.argmax(axis=1)]
        self.accuracy = float(np.mean(self.pred == split.y_test))
        self.size = model_size(list(distiller.teachers_))
        self.latency_s = predict_latency(distiller.teacher_proba, split.X_latency)
        self.fit_s = distiller.report_.timings_s["teachers"]


def _memory_params():
    """A fresh optimization memory per fit, where the default is a stored one.

    With ``memory=None`` by default (so far) nothing changes. Were the default a
    persistent file, each fit would get an empty one of its own: it then sees
    what ships with the package and nothing from the fits before it (no order
    effects, no cached teacher outputs), and the user's own memory is neither
    read nor written.
    """
    if HPMDistiller().get_params().get("memory") is None:
        return {}
    return {"memory": str(Path(tempfile.mkdtemp(prefix="skdistill-bench-"))
                          / "memory.db")}


def _warm_up(options):
    """One untimed fit, so that no timed fit pays the one-time imports.

    torch imports its compiler stack when the first optimizer is made (seconds),
    the boosters load their libraries on first use.
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    X["c"] = pd.Categorical(np.where(y == 1, "a", "b"))
    split = Split(X, y, 0, 100)
    HPMDistiller(make_teachers(0, 2), random_state=0, n_jobs=1, cv=2,
                 **_memory_params()).fit(split.X_train, split.y_train)


def fit_distiller(split, teachers, params, seed):
    """Fit one HPMDistiller; return it and its fit wall time."""
    distiller = HPMDistiller(teachers, random_state=seed, n_jobs=1,
                             **_memory_params())
    distiller.set_params(**params)
    start = time.perf_counter()
    distiller.fit(split.X_train, split.y_train)
    return distiller, time.perf_counter() - start


def measure(model, predict_proba, split, ref, fit_s=None, phases=None):
    """The table's columns for one fitted model.

    Parameters
    ----------
    model : estimator or list
        What is measured for size (the student pipeline, a teacher...).
    predict_proba : callable
        Its probabilities on raw rows (timed on the 10,000 rows).
    split : Split
    ref : Teachers
    fit_s : float or None
    phases : dict or None
        Phase timings of an HPMDistiller fit.

    Returns
    -------
    dict
    """
    pred = predict_proba(split.X_test).argmax(axis=1)
    size = model_size(model)
    accuracy = float(np.mean(pred == split.y_test))
    without_teachers = None
    if fit_s is not None and phases:
        without_teachers = fit_s - phases.get("teachers", 0.0)
    return {
        "status": "ok",
        "accuracy": accuracy,
        "retention": accuracy / ref.accuracy,
        "fidelity": float(np.mean(pred == ref.pred)),
        "compression": ref.size.n_bytes / size.n_bytes,
        "compression_parameters": (
            None if not (size.n_parameters and ref.size.n_parameters)
            else ref.size.n_parameters / size.n_parameters),
        "n_bytes": size.n_bytes,
        "n_parameters": size.n_parameters,
        "speedup": ref.latency_s / predict_latency(predict_proba, split.X_latency),
        "fit_s": fit_s,
        "fit_s_without_teachers": without_teachers,
        "phases_s": phases,
    }


def measure_distiller(distiller, fit_s, split, ref):
    """:func:`measure` for a fitted HPMDistiller, with its student and report."""
    figures = measure(distiller.student_, distiller.student_.predict_proba, split,
                      ref, fit_s, dict(distiller.report_.timings_s))
    own = distiller.teacher_proba(split.X_test).argmax(axis=1)
    student = distiller.predict(split.X_test)
    figures.update(
        fidelity_own_teachers=float(np.mean(student == distiller.classes_[own])),
        report_compression=distiller.report_.compression,
        student=_describe(distiller.student_[-1]),
        chain=[step.get("capacity") for step in
               distiller.report_.details.get("chain") or []])
    return figures


def _describe(student):
    params = student.get_params()
    size = params.get("hidden_layer_sizes", f"(max_depth={params.get('max_depth')})")
    return f"{type(student).__name__}{size}"


def _failed(error):
    text = f"{type(error).__name__}: {error}" if isinstance(error, Exception) \
        else str(error)
    return {"status": "failed", "error": text.strip().splitlines()[0][:300]}


def ablations():
    """The ablation rows: name -> parameters, or name -> None when skipped."""
    defaults = HPMDistiller().get_params()
    rows = {}
    for param, on, off in COMPONENTS:
        if param not in defaults:
            rows[f"HPMDistiller({param}=...)"] = None
            continue
        value = on if defaults[param] == off else off
        rows[f"HPMDistiller({param}={value!r})"] = {param: value}
    return rows


# ----------------------------------------------------------------------------
# one dataset, one seed


def run_split(name, split, options, with_curve):
    """Every row of the table (and the curve) on one dataset and seed.

    Returns
    -------
    rows : list of dict
    curve : list of dict
    """
    seed, n_est = split.seed, options.teacher_estimators
    base = {"dataset": name, "seed": seed}
    rows, curve = [], []

    def record(row, figures, kind):
        rows.append({**base, "row": row, "kind": kind, **figures})
        shown = figures.get("accuracy")
        _log(f"  {name} seed={seed} {row}: " + (
            f"acc={shown:.4f} fit={figures.get('fit_s') or 0:.1f}s"
            if shown is not None else figures.get("error", figures["status"])))

    try:
        default, fit_s = fit_distiller(split, make_teachers(seed, n_est), {}, seed)
        ref = Teachers(default, split)
    except Exception as error:  # the whole seed fails, every row says why
        failure = _failed(f"HPMDistiller() failed: {_failed(error)['error']}")
        names = [FUSED, *(f"teacher: {t}" for t in TEACHER_NAMES), DEFAULT,
                 *BASELINES, *ablations(), REFERENCE]
        for row in names:
            record(row, failure, "failed")
        return rows, curve
    record(FUSED, {"status": "ok", "accuracy": ref.accuracy, "retention": 1.0,
                   "fidelity": 1.0, "compression": 1.0,
                   "compression_parameters": 1.0, "speedup": 1.0,
                   "n_bytes": ref.size.n_bytes,
                   "n_parameters": ref.size.n_parameters,
                   "fit_s": ref.fit_s, "fit_s_without_teachers": None},
           "teacher")
    for teacher_name, teacher in zip(TEACHER_NAMES, default.teachers_, strict=True):
        record(f"teacher: {teacher_name}",
               measure(teacher, teacher.predict_proba, split, ref), "teacher")
    record(DEFAULT, measure_distiller(default, fit_s, split, ref), "hpm")
    student = default.student_[-1]
    for row, (which, params) in BASELINES.items():
        try:
            distiller, fit_s = fit_distiller(
                split, make_teachers(seed, n_est, which),
                {**params, "student": clone(student)}, seed)
            figures = measure_distiller(distiller, fit_s, split, ref)
        except Exception as error:
            figures = _failed(error)
        record(row, figures, "baseline")
    for row, params in ablations().items():
        if params is None:
            record(row, {"status": "skipped",
                         "error": "parameter not in this version"}, "ablation")
            continue
        try:
            distiller, fit_s = fit_distiller(split, make_teachers(seed, n_est),
                                             params, seed)
            figures = measure_distiller(distiller, fit_s, split, ref)
        except Exception as error:
            figures = _failed(error)
        record(row, figures, "ablation")
    try:
        figures = run_reference(default, split, ref, options)
    except Exception as error:
        figures = _failed(error)
    record(REFERENCE, figures, "reference")
    if with_curve:
        curve = run_curve(name, split, default, ref, options)
    return rows, curve


def run_reference(default, split, ref, options):
    """The reference row: deepbridge-distillation fed the fused teachers."""
    if options.no_reference:
        return {"status": "skipped", "error": "--no-reference"}
    X_fit, X_val, y_fit, y_val = train_test_split(
        split.X_train, split.y_train, test_size=0.2, stratify=split.y_train,
        random_state=split.seed)
    X_fit_n, X_val_n, X_test_n, X_lat_n = reference.to_numeric(
        X_fit, X_val, split.X_test, split.X_latency)
    data = {"X_train": X_fit_n, "y_train": y_fit, "X_val": X_val_n,
            "y_val": y_val, "teacher_probs": default.teacher_proba(X_fit),
            "X_test": X_test_n, "X_latency": X_lat_n}
    result = reference.run(data, split.seed, options.reference_python)
    if result["status"] != "ok":
        return {"status": "failed", "error": result["error"],
                "version": result.get("version")}
    pred = result["test_pred"]
    if pred.shape != split.y_test.shape:
        return {"status": "failed", "version": result.get("version"),
                "error": f"its predict returned {len(pred)} labels for "
                         f"{len(split.y_test)} test rows ({result['model']} from "
                         f"its {result['source']} phase)"}
    accuracy = float(np.mean(pred == split.y_test))
    return {
        "status": "ok", "accuracy": accuracy,
        "retention": accuracy / ref.accuracy,
        "fidelity": float(np.mean(pred == ref.pred)),
        "compression": ref.size.n_bytes / result["n_bytes"],
        "compression_parameters": None, "n_bytes": result["n_bytes"],
        "speedup": ref.latency_s / result["latency_s"],
        "fit_s": result["fit_s"], "fit_s_without_teachers": result["fit_s"],
        "student": f"{result['model']} (from its {result['source']} phase)",
        "version": result["version"],
    }


def hidden_units(max_parameters, n_inputs, n_classes):
    """Width of the one hidden layer whose weights come nearest the budget."""
    return int(max(1, round((max_parameters - n_classes) / (n_inputs + 1
                                                              + n_classes))))


def run_curve(name, split, default, ref, options):
    """The compression curve on one dataset and seed."""
    n_inputs = default.student_[:-1].transform(split.X_train.iloc[:2]).shape[1]
    n_classes = len(default.classes_)
    points = []
    for ratio in options.curve_ratios:
        width = hidden_units(ref.size.n_parameters / ratio, n_inputs, n_classes)
        for method, (which, params) in CURVE_METHODS.items():
            student = MLPStudent(hidden_layer_sizes=(width,),
                                 random_state=split.seed)
            point = {"dataset": name, "seed": split.seed, "ratio": ratio,
                     "hidden": width, "method": method,
                     "teacher_accuracy": ref.accuracy}
            try:
                distiller, fit_s = fit_distiller(
                    split, make_teachers(split.seed, options.teacher_estimators,
                                         which),
                    {**params, "student": student}, split.seed)
                point.update(measure_distiller(distiller, fit_s, split, ref))
            except Exception as error:
                point.update(_failed(error))
            points.append(point)
            _log(f"  curve {name} seed={split.seed} {ratio}x ({width} units) "
                 f"{method}: " + (f"acc={point['accuracy']:.4f}"
                                  if point["status"] == "ok" else point["error"]))
    return points


# ----------------------------------------------------------------------------
# scale: flights at growing sizes, one process per size


def run_scale(dataset, fractions, options):
    """Fit time and peak memory of HPMDistiller() against training rows."""
    points = []
    for fraction in fractions:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "scale.json"
            command = [sys.executable, "-m", "benchmarks.run", "--scale-child",
                       dataset, str(fraction), str(out), "--suite", options.suite,
                       "--seeds", str(options.seeds[0])]
            if options.explicit_max_rows is not None:
                command += ["--max-rows", str(options.explicit_max_rows)]
            if options.teacher_estimators is not None:
                command += ["--teacher-estimators", str(options.teacher_estimators)]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                  check=False)
            if out.is_file():
                point = json.loads(out.read_text())
            else:
                lines = (done.stderr or "no output").strip().splitlines()
                point = {"status": "failed", "error": lines[-1][:300]}
        points.append({"dataset": dataset, "fraction": fraction, **point})
        _log(f"  scale {dataset} {fraction:.0%}: " + (
            f"{point['n_train']} rows, fit {point['fit_s']:.1f}s, peak "
            f"{point['peak_rss_mb']:.0f} MB" if point["status"] == "ok"
            else point["error"]))
    return points


def _scale_child(dataset, fraction, out, options):
    """One scale point, in its own process; writes its JSON to ``out``."""
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
            "student": _describe(distiller.student_[-1]),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            / 1024, "rss_before_fit_mb": rss_before}
    except Exception as error:
        point = _failed(error)
    Path(out).write_text(json.dumps(point))


# ----------------------------------------------------------------------------
# summaries


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"mean": float(np.mean(values)), "std": float(np.std(values)),
            "n": len(values)}


def summarise(rows):
    """Mean ± std over seeds per dataset and row, and Δ accuracy vs the default.

    Returns
    -------
    list of dict
    """
    default_acc = {(r["dataset"], r["seed"]): r["accuracy"] for r in rows
                   if r["row"] == DEFAULT and r["status"] == "ok"}
    table = []
    for dataset, row in dict.fromkeys((r["dataset"], r["row"]) for r in rows):
        runs = [r for r in rows if (r["dataset"], r["row"]) == (dataset, row)]
        ok = [r for r in runs if r["status"] == "ok"]
        entry = {"dataset": dataset, "row": row, "kind": runs[0]["kind"],
                 "n_seeds": len(runs), "n_ok": len(ok),
                 "status": _status(runs)}
        for metric in METRICS:
            entry[metric] = _stats([r.get(metric) for r in ok])
        entry["delta_accuracy"] = _stats(
            [r["accuracy"] - default_acc[(dataset, r["seed"])] for r in ok
             if (dataset, r["seed"]) in default_acc])
        entry["student"] = next((r["student"] for r in ok if "student" in r), None)
        table.append(entry)
    return table


def _status(runs):
    ok = sum(r["status"] == "ok" for r in runs)
    if ok == len(runs):
        return "ok"
    errors = sorted({r.get("error", r["status"]) for r in runs
                     if r["status"] != "ok"})
    kind = "skipped" if all(r["status"] == "skipped" for r in runs
                            if r["status"] != "ok") else "failed"
    return f"{kind} ({len(runs) - ok}/{len(runs)} seeds): " + "; ".join(errors)


def summarise_curve(points):
    """Mean accuracy per dataset, ratio and method; gap closed where it counts."""
    summary = []
    for dataset, ratio in dict.fromkeys((p["dataset"], p["ratio"]) for p in points):
        mine = [p for p in points if (p["dataset"], p["ratio"]) == (dataset, ratio)]
        teacher = float(np.mean([p["teacher_accuracy"] for p in mine]))
        means = {}
        for method in CURVE_METHODS:
            ok = [p for p in mine if p["method"] == method and p["status"] == "ok"]
            means[method] = _stats([p["accuracy"] for p in ok])
            summary.append({
                "dataset": dataset, "ratio": ratio, "method": method,
                "hidden": mine[0]["hidden"], "teacher_accuracy": teacher,
                "accuracy": means[method],
                "retention": _stats([p["retention"] for p in ok]),
                "compression_parameters": _stats(
                    [p["compression_parameters"] for p in ok]),
                "compression": _stats([p["compression"] for p in ok]),
                "status": _status([p for p in mine if p["method"] == method]),
            })
        direct = means["direct"]
        gap = None if direct is None else teacher - direct["mean"]
        for entry in summary[-len(CURVE_METHODS):]:
            entry["direct_gap"] = gap
            entry["gap_closed"] = None
            if (gap is not None and gap >= 0.01 and entry["method"] != "direct"
                    and entry["accuracy"] is not None):
                entry["gap_closed"] = (entry["accuracy"]["mean"]
                                       - direct["mean"]) / gap
    return summary


def targets(table, curve, scale):
    """Where each target of the issue stands, from this run's numbers."""
    found = {}
    rows = {(e["dataset"], e["row"]): e for e in table}
    datasets = list(dict.fromkeys(e["dataset"] for e in table))

    def mean(dataset, row, metric="accuracy"):
        entry = rows.get((dataset, row))
        return None if not entry or not entry[metric] else entry[metric]["mean"]

    hpm_points = [c for c in curve if c["ratio"] >= 100 and c["method"] == DEFAULT
                  and c["retention"]]
    gaps = [c["gap_closed"] for c in hpm_points if c["gap_closed"] is not None]
    found["compression_100x"] = {
        "target": "at >= 100x: median retention >= 99.5 %, mean gap closed >= 75 % "
                  "where direct loses >= 1 pt",
        "median_retention": float(np.median([c["retention"]["mean"]
                                             for c in hpm_points]))
        if hpm_points else None,
        "mean_gap_closed": float(np.mean(gaps)) if gaps else None,
        "points": len(hpm_points), "points_with_gap": len(gaps)}
    wins = []
    for dataset in datasets:
        hpm = mean(dataset, DEFAULT)
        others = [mean(dataset, DIRECT), mean(dataset, PLAIN_KD)]
        if hpm is not None and None not in others:
            wins.append(hpm > max(others))
    found["beats_direct_and_kd"] = {
        "target": "HPMDistiller() beats direct and plain KD on >= 80 % of datasets",
        "wins": int(sum(wins)), "datasets": len(wins),
        "fraction": float(np.mean(wins)) if wins else None}
    against = []
    for dataset in datasets:
        hpm, ref = rows.get((dataset, DEFAULT)), rows.get((dataset, REFERENCE))
        if not hpm or not hpm["accuracy"]:
            continue
        entry = {"dataset": dataset, "hpm_fit_s": hpm["fit_s"]["mean"],
                 "hpm_fit_s_without_teachers":
                     hpm["fit_s_without_teachers"]["mean"],
                 "hpm_compression": hpm["compression"]["mean"],
                 "hpm_accuracy": hpm["accuracy"]["mean"],
                 "reference_status": ref["status"] if ref else "absent"}
        if ref and ref["accuracy"]:
            entry.update(reference_fit_s=ref["fit_s"]["mean"],
                         reference_accuracy=ref["accuracy"]["mean"],
                         reference_compression=ref["compression"]["mean"])
            entry["met"] = bool(
                entry["hpm_fit_s"] <= entry["reference_fit_s"]
                and entry["hpm_compression"] >= 10
                and entry["hpm_accuracy"] >= entry["reference_accuracy"])
        against.append(entry)
    found["against_reference"] = {
        "target": "HPMDistiller() fit no longer than the reference's, student >= 10x "
                  "smaller than the teachers, at least as accurate as the reference",
        "datasets": against}
    speedups = [mean(d, DEFAULT, "speedup") for d in datasets]
    speedups = [s for s in speedups if s is not None]
    found["predict_speedup"] = {
        "target": "student predict >= 20x faster than the teachers on 10k rows",
        "min": min(speedups) if speedups else None,
        "median": float(np.median(speedups)) if speedups else None,
        "datasets_met": int(sum(s >= 20 for s in speedups)),
        "datasets": len(speedups)}
    found["not_measured_here"] = [
        "MLP epoch time against a bare torch loop (benchmarks/epoch_time.py)",
        "n_jobs=2 against n_jobs=1: benchmarks/parallel.py"]
    if scale:
        found["flights_scale"] = {
            "target": "flights fit completes; peak memory and time vs rows reported",
            "points": [{k: p.get(k) for k in ("fraction", "status", "n_train",
                                              "fit_s", "peak_rss_mb")}
                       for p in scale]}
    return found


# ----------------------------------------------------------------------------
# markdown


def _pct(stats, signed=False):
    if not stats:
        return "—"
    sign = "+" if signed else ""
    return f"{100 * stats['mean']:{sign}.1f} ± {100 * stats['std']:.1f}"


def _times(stats):
    if not stats:
        return "—"
    value = stats["mean"]
    return f"{value:.2g}x" if value < 10 else f"{value:.0f}x"


def _secs(stats):
    if not stats:
        return "—"
    return f"{stats['mean']:.1f} ± {stats['std']:.1f}"


def headline_table(table):
    """One line per dataset: the accuracy of each method, the default's costs."""
    rows = {(e["dataset"], e["row"]): e for e in table}
    methods = (FUSED, DIRECT, PLAIN_KD, TAKD, DEFAULT, REFERENCE)
    short = ("teachers (fused)", "direct", "plain KD", "TAKD", "HPMDistiller()",
             "reference")
    lines = ["| dataset | " + " | ".join(short) + " | HPMDistiller(): compression "
             "(bytes) | speed-up, 10k rows | fit s | reference fit s |",
             "|---" * (len(short) + 5) + "|"]
    for dataset in dict.fromkeys(e["dataset"] for e in table):
        cells = []
        for method in methods:
            entry = rows.get((dataset, method))
            if entry and entry["accuracy"]:
                cells.append(_pct(entry["accuracy"]))
            else:
                cells.append("failed" if entry and "failed" in entry["status"]
                             else "—")
        hpm, ref = rows.get((dataset, DEFAULT)), rows.get((dataset, REFERENCE))
        hpm = hpm if hpm and hpm["accuracy"] else None
        cells += [_times(hpm and hpm["compression"]),
                  _times(hpm and hpm["speedup"]), _secs(hpm and hpm["fit_s"]),
                  _secs(ref and ref["fit_s"])]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dataset_table(table, dataset):
    """Every row of one dataset."""
    lines = ["| row | accuracy | Δ acc vs HPMDistiller() | retention | fidelity | "
             "compression bytes (params) | speed-up 10k | fit s (w/o teachers) | "
             "student | status |", "|---" * 10 + "|"]
    for e in (e for e in table if e["dataset"] == dataset):
        params = e["compression_parameters"]
        compression = _times(e["compression"]) + (
            f" ({_times(params)})" if params else "")
        fit = _secs(e["fit_s"]) + (f" ({e['fit_s_without_teachers']['mean']:.1f})"
                                   if e["fit_s_without_teachers"] else "")
        delta = _pct(e["delta_accuracy"], signed=True) if e["row"] != DEFAULT \
            else "0"
        status = e["status"].replace("|", "/")
        lines.append(
            f"| {e['row']} | {_pct(e['accuracy'])} | {delta} | "
            f"{_pct(e['retention'])} | {_pct(e['fidelity'])} | {compression} | "
            f"{_times(e['speedup'])} | {fit} | {e['student'] or '—'} | "
            f"{status} |")
    return "\n".join(lines)


def curve_table(curve):
    """The compression curve, one line per dataset, size and method."""
    lines = ["| dataset | target ratio | hidden units | method | compression params "
             "(bytes) | accuracy | retention | teacher − direct | gap closed |",
             "|---" * 9 + "|"]
    for c in curve:
        gap = "—" if c["direct_gap"] is None else f"{100 * c['direct_gap']:.1f} pts"
        closed = "—" if c["gap_closed"] is None else f"{100 * c['gap_closed']:.0f} %"
        accuracy = _pct(c["accuracy"]) if c["accuracy"] else c["status"]
        lines.append(
            f"| {c['dataset']} | {c['ratio']}x | {c['hidden']} | {c['method']} | "
            f"{_times(c['compression_parameters'])} "
            f"({_times(c['compression'])}) | {accuracy} | "
            f"{_pct(c['retention'])} | {gap} | {closed} |")
    return "\n".join(lines)


def targets_text(found):
    """Where the targets stand, as a list."""
    lines = []
    c = found["compression_100x"]
    if c["points"]:
        closed = ("no point where direct loses >= 1 pt" if c["mean_gap_closed"] is
                  None else f"mean gap closed {100 * c['mean_gap_closed']:.0f} % "
                  f"over {c['points_with_gap']} point(s) where direct loses >= 1 pt")
        lines.append(f"- **>= 100x compression** (target: median retention >= "
                     f"99.5 %, gap closed >= 75 %): median retention of "
                     f"HPMDistiller() {100 * c['median_retention']:.1f} % over "
                     f"{c['points']} point(s); {closed}.")
    else:
        lines.append("- **>= 100x compression**: no curve point at >= 100x in this "
                     "run.")
    w = found["beats_direct_and_kd"]
    if w["datasets"]:
        lines.append(f"- **HPMDistiller() beats direct and plain KD** (target >= 80 "
                     f"% of datasets): {w['wins']} of {w['datasets']} datasets "
                     "(mean over seeds; the spread is in the tables).")
    for e in found["against_reference"]["datasets"]:
        if "reference_fit_s" in e:
            lines.append(
                f"- **against the reference, {e['dataset']}**: fit "
                f"{e['hpm_fit_s']:.1f} s ({e['hpm_fit_s_without_teachers']:.1f} s "
                f"without fitting the teachers) vs {e['reference_fit_s']:.1f} s "
                "(given the teachers' probabilities); compression "
                f"{e['hpm_compression']:.0f}x vs {e['reference_compression']:.0f}x; "
                f"accuracy {100 * e['hpm_accuracy']:.1f} vs "
                f"{100 * e['reference_accuracy']:.1f} %: "
                f"{'met' if e['met'] else 'not met'}.")
        else:
            lines.append(f"- **against the reference, {e['dataset']}**: the "
                         f"reference {e['reference_status'].rstrip('.')}.")
    s = found["predict_speedup"]
    if s["datasets"]:
        lines.append(f"- **predict speed-up >= 20x** on 10k rows: "
                     f"{s['datasets_met']} of {s['datasets']} datasets (min "
                     f"{s['min']:.1f}x, median {s['median']:.1f}x).")
    if "flights_scale" in found:
        points = ", ".join(
            f"{p['n_train']:,} rows {p['fit_s']:.0f} s / {p['peak_rss_mb']:.0f} MB"
            if p["status"] == "ok" else f"{p['fraction']:.0%}: {p['status']}"
            for p in found["flights_scale"]["points"])
        lines.append(f"- **flights scale** (fit time / peak memory): {points}.")
    lines.append("- Not measured by this runner: "
                 + "; ".join(found["not_measured_here"]) + ".")
    return "\n".join(lines)


def to_markdown(results):
    """The published markdown of a run."""
    meta = results["meta"]
    parts = [
        f"# Tabular benchmark suite: {meta['suite']}",
        f"Command: `{meta['command']}`; seeds {meta['seeds']}; rows per dataset: "
        f"{meta['rows_note']}; total wall time {meta['wall_s'] / 60:.1f} min on "
        f"{meta['machine']}, everything on one thread; library at commit "
        f"`{meta['library']['commit'][:7]}`"
        + (" (skdistill/ modified)" if meta["library"]["skdistill_modified"] else "")
        + ". Protocol, rows and columns: the docstring of `benchmarks/run.py`; "
        "datasets and their preprocessing: `benchmarks/datasets.py`.",
        "Test-split percentages, mean ± std over seeds. Retention and fidelity are "
        "against the fused teachers; compression and speed-up are teachers / "
        f"model (the three teachers together; the speed-up on "
        f"{meta['latency_rows']:,} test rows).",
        "## Headline: test accuracy",
        headline_table(results["table"]),
        "## Where the targets stand",
        targets_text(results["targets"]),
    ]
    for dataset, info in results["datasets"].items():
        parts += [f"## {dataset}",
                  f"{info['source']}, target `{info['target']}`: {info['task']}. "
                  f"{info['n_rows']:,} rows used, {info['n_features']} features "
                  f"({info['n_categorical']} categorical), {info['n_classes']} "
                  "classes.",
                  dataset_table(results["table"], dataset)]
    if results["curve"]:
        parts += ["## Compression curve",
                  "One hidden layer sized for the target ratio in parameters "
                  "(teacher tree nodes / student weights); the measured ratios "
                  "are shown, parameters (bytes). Gap closed = (acc − acc_direct) "
                  "/ (acc_teacher − acc_direct) where direct loses >= 1 pt.",
                  curve_table(results["curve"])]
    if results["scale"]:
        parts += ["## Scale: fit time and peak memory against rows",
                  _scale_table(results["scale"])]
    plots = results["meta"].get("plots") or []
    if plots:
        parts += ["## Plots", "\n".join(f"![{p}]({p})" for p in plots)]
    return "\n\n".join(parts) + "\n"


def _scale_table(scale):
    lines = ["| dataset | fraction | training rows | fit s | phases s | peak RSS MB "
             "| test accuracy | student | status |", "|---" * 9 + "|"]
    for p in scale:
        if p["status"] != "ok":
            lines.append(f"| {p['dataset']} | {p['fraction']:.0%} | | | | | | | "
                         f"{p['error']} |")
            continue
        phases = ", ".join(f"{k} {v:.0f}" for k, v in p["phases_s"].items())
        lines.append(f"| {p['dataset']} | {p['fraction']:.0%} | {p['n_train']:,} | "
                     f"{p['fit_s']:.1f} | {phases} | {p['peak_rss_mb']:.0f} | "
                     f"{100 * p['accuracy']:.1f} | {p['student']} | ok |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# plots (matplotlib imported only here)


def plot(results, out, prefix):
    """Write the PNGs; return their file names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _log("matplotlib is not installed: no plots")
        return []
    written = []
    for name, draw, data in (("curve", _plot_curve, results["curve"]),
                             ("ablations", _plot_ablations, results["table"]),
                             ("scale", _plot_scale, results["scale"])):
        if not data:
            continue
        figure = draw(plt, data)
        path = out / f"{prefix}_{name}.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path.name)
    return written


def _plot_curve(plt, curve):
    datasets = list(dict.fromkeys(c["dataset"] for c in curve))
    figure, axes = plt.subplots(1, len(datasets), squeeze=False,
                                figsize=(4.6 * len(datasets), 3.8),
                                layout="constrained")
    for ax, dataset in zip(axes[0], datasets, strict=True):
        mine = [c for c in curve if c["dataset"] == dataset]
        for method, marker in zip(CURVE_METHODS, "osD^", strict=True):
            points = [c for c in mine if c["method"] == method and c["accuracy"]
                      and c["compression_parameters"]]
            ax.errorbar([c["compression_parameters"]["mean"] for c in points],
                        [100 * c["accuracy"]["mean"] for c in points],
                        yerr=[100 * c["accuracy"]["std"] for c in points],
                        marker=marker, capsize=3, label=method)
        ax.axhline(100 * mine[0]["teacher_accuracy"], color="black",
                   linestyle="--", linewidth=1, label="teachers (fused)")
        ax.set_xscale("log")
        ax.set_xlabel("compression in parameters (log)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(dataset)
    axes[0][0].legend(fontsize="small")
    return figure


def _plot_ablations(plt, table):
    datasets = list(dict.fromkeys(e["dataset"] for e in table))
    figure, axes = plt.subplots(1, len(datasets), squeeze=False,
                                figsize=(5.2 * len(datasets), 4.2),
                                layout="constrained")
    for ax, dataset in zip(axes[0], datasets, strict=True):
        entries = [e for e in table if e["dataset"] == dataset
                   and e["kind"] in ("baseline", "ablation")
                   and e["delta_accuracy"]]
        names = [e["row"] for e in entries]
        deltas = [100 * e["delta_accuracy"]["mean"] for e in entries]
        errors = [100 * e["delta_accuracy"]["std"] for e in entries]
        colors = ["tab:gray" if e["kind"] == "baseline" else "tab:blue"
                  for e in entries]
        ax.barh(names, deltas, xerr=errors, color=colors, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("Δ accuracy vs HPMDistiller() (pts)")
        ax.set_title(dataset)
        ax.tick_params(axis="y", labelsize="small")
    return figure


def _plot_scale(plt, scale):
    ok = [p for p in scale if p["status"] == "ok"]
    figure, ax = plt.subplots(figsize=(5, 3.8), layout="constrained")
    ax.plot([p["n_train"] for p in ok], [p["fit_s"] for p in ok], marker="o")
    for p in ok:
        ax.annotate(f"{p['peak_rss_mb']:.0f} MB", (p["n_train"], p["fit_s"]),
                    textcoords="offset points", xytext=(4, -12), fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training rows (log)")
    ax.set_ylabel("HPMDistiller() fit wall time, s (log)")
    ax.set_title(f"{scale[0]['dataset']}: fit time and peak memory")
    return figure


# ----------------------------------------------------------------------------
# the run


def _library():
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True, check=False).stdout.strip()

    defaults = HPMDistiller().get_params()
    return {"commit": git("rev-parse", "HEAD"),
            "skdistill_modified": bool(git("status", "--porcelain", "skdistill")),
            "defaults": {k: repr(v) for k, v in defaults.items()
                         if k not in ("teachers",)}}


def _versions():
    import lightgbm
    import xgboost

    return {"python": platform.python_version(), "sklearn": sklearn.__version__,
            "torch": torch.__version__, "xgboost": xgboost.__version__,
            "lightgbm": lightgbm.__version__}


def _cap(dataset, options):
    caps = [c for c in (options.max_rows, options.row_caps.get(dataset))
            if c is not None]
    return min(caps) if caps else None


def _options(argv):
    parser = argparse.ArgumentParser(prog=COMMAND,
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument("--datasets", nargs="*", choices=sorted(DATASETS),
                        help="instead of the suite's (none: no table, e.g. to run "
                             "the scale section alone)")
    parser.add_argument("--seeds", nargs="+", type=int, help="instead of the suite's")
    parser.add_argument("--max-rows", type=int,
                        help="stratified sample of at most this many rows per "
                             "dataset (instead of the suite's cap)")
    parser.add_argument("--curve-datasets", nargs="*", choices=sorted(DATASETS),
                        help="instead of the suite's (none: no curve)")
    parser.add_argument("--curve-ratios", nargs="+", type=float,
                        help="instead of the suite's")
    parser.add_argument("--no-scale", action="store_true",
                        help="skip the flights scale section")
    parser.add_argument("--teacher-estimators", type=int,
                        help="trees per teacher (default: the libraries' 100)")
    parser.add_argument("--latency-rows", type=int, default=LATENCY_ROWS,
                        help="rows the predict speed-up is timed on")
    parser.add_argument("--no-reference", action="store_true",
                        help="record the reference row as skipped")
    parser.add_argument("--reference-python", type=Path,
                        help="the reference venv's interpreter (default: "
                             "benchmarks.reference.find_python())")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--update-readme", action="store_true",
                        help="put the headline table in README.md")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="run nothing: merge these results of disjoint "
                             "datasets into suite_<suite>.* under --out")
    parser.add_argument("--scale-child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    suite = SUITES[options.suite]
    if options.datasets is None:
        options.datasets = list(suite["datasets"])
    options.seeds = options.seeds or list(suite["seeds"])
    options.explicit_max_rows = options.max_rows
    options.row_caps = {} if options.max_rows is not None else suite["row_caps"]
    if options.max_rows is None:
        options.max_rows = suite["max_rows"]
    if options.curve_datasets is None:
        options.curve_datasets = list(suite["curve_datasets"])
    options.curve_ratios = [int(r) if float(r).is_integer() else r for r in
                            (options.curve_ratios or suite["curve_ratios"])]
    options.scale = None if options.no_scale else suite["scale"]
    return options


def run(argv=None):
    """Run a suite and write its results.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    dict
        The JSON document written to ``suite_<name>.json``.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    options = _options(argv)
    torch.set_num_threads(1)
    if options.scale_child:
        dataset, fraction, out = options.scale_child
        with threadpool_limits(limits=1):
            _scale_child(dataset, float(fraction), out, options)
        return None
    if options.merge:
        return merge(options.merge, options, argv)
    library = _library()
    start = time.perf_counter()
    rows, curve, scale, infos = [], [], [], {}
    with threadpool_limits(limits=1):
        _warm_up(options)
        for name in dict.fromkeys([*options.datasets, *options.curve_datasets]):
            for seed in options.seeds:
                X, y, _ = load(name, _cap(name, options), random_state=seed)
                infos.setdefault(name, describe(name, X, y))
                _log(f"{name} seed={seed}: {len(X):,} rows")
                new_rows, new_curve = run_split(
                    name, Split(X, y, seed, options.latency_rows), options,
                    with_curve=name in options.curve_datasets)
                if name in options.datasets:
                    rows += new_rows
                curve += new_curve
        if options.scale:
            _log(f"scale: {options.scale[0]}")
            scale = run_scale(*options.scale, options)
    caps = {name: _cap(name, options) for name in infos}
    meta = {
            "command": " ".join([COMMAND, *argv]), "suite": options.suite,
            "seeds": options.seeds, "datasets": options.datasets,
            "curve_datasets": options.curve_datasets,
            "curve_ratios": options.curve_ratios,
            "teacher_estimators": options.teacher_estimators,
            "latency_rows": options.latency_rows,
            "row_caps": caps,
            "rows_note": ", ".join(f"{n} {'all' if c is None else f'<= {c:,}'}"
                                   for n, c in caps.items()),
            "library": library, "versions": _versions(),
            "machine": f"{platform.machine()}, "
                       f"{len(os.sched_getaffinity(0))} cores",
            "reference_python": str(options.reference_python
                                    or reference.find_python()),
            "wall_s": time.perf_counter() - start,
        }
    results = assemble(meta, infos, rows, curve, scale)
    write(results, options)
    return results


def assemble(meta, infos, rows, curve, scale):
    """The results document: the fits, their summaries and the targets."""
    table = summarise(rows)
    curve_summary = summarise_curve(curve) if curve else []
    return {"meta": meta, "datasets": infos, "table": table, "curve": curve_summary,
            "scale": scale, "targets": targets(table, curve_summary, scale),
            "runs": rows, "curve_runs": curve}


def merge(paths, options, argv):
    """One results document from runs of disjoint datasets (e.g. two processes).

    The meta of the first document is kept, with every command (this merge's
    last), the datasets, row caps and library commits of all, and the longest
    wall time (they ran side by side).
    """
    documents = [json.loads(Path(path).read_text()) for path in paths]
    meta = dict(documents[0]["meta"])
    meta["command"] = " && ".join([*(d["meta"]["command"] for d in documents),
                                   " ".join([COMMAND, *argv])])
    meta["library_commits"] = [d["meta"]["library"]["commit"] for d in documents]
    for key in ("datasets", "curve_datasets"):
        meta[key] = [name for d in documents for name in d["meta"][key]]
    meta["row_caps"] = {name: cap for d in documents
                        for name, cap in d["meta"]["row_caps"].items()}
    meta["rows_note"] = ", ".join(d["meta"]["rows_note"] for d in documents
                                  if d["meta"]["rows_note"])
    meta["wall_s"] = max(d["meta"]["wall_s"] for d in documents)
    meta["merged_from"] = [str(path) for path in paths]
    results = assemble(
        meta, {k: v for d in documents for k, v in d["datasets"].items()},
        [r for d in documents for r in d["runs"]],
        [c for d in documents for c in d["curve_runs"]],
        [p for d in documents for p in d["scale"]])
    write(results, options)
    return results


def write(results, options):
    """The JSON, the markdown, the plots and (on request) the README block."""
    out, prefix = options.out, f"suite_{options.suite}"
    out.mkdir(parents=True, exist_ok=True)
    results["meta"]["plots"] = [] if options.no_plots else plot(results, out,
                                                                prefix)
    (out / f"{prefix}.json").write_text(json.dumps(results, indent=1,
                                                   default=_json_default))
    (out / f"{prefix}.md").write_text(to_markdown(results))
    if options.update_readme:
        update_readme(results, out / f"{prefix}.md")
    _log(f"done in {results['meta']['wall_s'] / 60:.1f} min; wrote {out}/{prefix}.*")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def update_readme(results, markdown, readme=ROOT / "README.md"):
    """Replace the README's headline block with this run's table."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        _log(f"{readme} has no {README_START} block: not updated")
        return
    link = os.path.relpath(markdown, readme.parent)
    block = "\n".join([
        README_START,
        f"Test accuracy (%), mean ± std over seeds {results['meta']['seeds']}, from "
        f"`{results['meta']['command']}` (commit "
        f"`{results['meta']['library']['commit'][:7]}`; rows per dataset: "
        f"{results['meta']['rows_note']}). Every row, column and plot: "
        f"[{link}]({link}).", "",
        headline_table(results["table"]),
        README_END])
    pattern = re.escape(README_START) + ".*?" + re.escape(README_END)
    readme.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))


if __name__ == "__main__":
    run()
