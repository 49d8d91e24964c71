"""The regression suite (``--task regression``): HPMRegressor beside its baselines.

The protocol of the classification suite (``benchmarks/run.py``) with a number to
predict: per seed a random 75/25 train/test split (after an optional random
sample of ``max_rows`` rows drawn with the same seed), the test rows only scored,
everything on one thread. The teachers are ``XGBRegressor``, ``LGBMRegressor``
and an encoded ``RandomForestRegressor`` at their defaults (100 trees), fitted by
HPMRegressor itself (cross-fitted for out-of-fold targets and the gate).

Rows: the fused teachers and each teacher; ``HPMRegressor()`` (all defaults:
a LightGBM student, ``alpha="auto"``, attention fusion, ``augment="auto"``),
whose student every baseline clones; ``direct (alpha=0)`` (the same student on
the true target, no augmentation); ``plain KD`` (the same student fitted on
XGBoost's in-sample predictions, ``alpha=0.7``, no augmentation); and the
ablations ``fusion="mean"``, ``soft_targets="in_sample"``, ``augment=None``,
``augment="munge"`` and ``chain="auto"`` (a "skipped" row where HPMRegressor
has no ``chain``; the baselines get ``chain=False`` where it has one).

Columns (test rows, mean ± std over seeds): R², RMSE, MAE, Δ RMSE against
``HPMRegressor()`` (paired by seed), retention (R² / the fused teachers' R²),
fidelity (R² of the row's predictions against the fused teachers'), compression
(bytes, and parameters), predict speed-up (the fused teachers' ``teacher_predict``
/ the row's ``predict`` on the same 10,000 test rows), fit wall time.

Compression curve: MLP students of one hidden layer sized to be 10x, 100x and
1000x smaller than the teachers in parameters, trained four ways (direct, plain
KD, ``HPMRegressor(student=...)``, the same with ``augment="munge"``); gap closed
= (RMSE_direct - RMSE) / (RMSE_direct - RMSE_teachers) on means over seeds,
wherever direct's RMSE exceeds the teachers' by at least 1 %.
"""

import numpy as np
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from skdistill import HPMRegressor, MLPRegressionStudent
from skdistill.metrics import model_size, predict_latency

from ..common import describe_student, log
from .config import (
    REG_DEFAULT,
    REG_DIRECT,
    REG_PLAIN_KD,
    REGRESSION_BASELINES,
    REGRESSION_COMPONENTS,
    REGRESSION_CURVE_METHODS,
    REGRESSION_METRICS,
    TEACHER_NAMES,
)
from .fit import ablations, curve_width, failed, fit_distiller, make_teachers
from .summarise import _stats, _status, summarise

FUSED = "teachers (fused)"


def scores(y, pred):
    """R², RMSE and MAE of predictions.

    Parameters
    ----------
    y, pred : ndarray of shape (n_samples,)

    Returns
    -------
    dict
    """
    return {"r2": float(r2_score(y, pred)),
            "rmse": float(root_mean_squared_error(y, pred)),
            "mae": float(mean_absolute_error(y, pred))}


class RegressionTeachers:
    """What every row is measured against: the fused teachers of the default fit.

    Parameters
    ----------
    regressor : HPMRegressor
        The fitted ``HPMRegressor()``.
    split : Split
    """

    def __init__(self, regressor, split):
        self.pred = regressor.teacher_predict(split.X_test)
        self.scores = scores(split.y_test, self.pred)
        self.size = model_size(list(regressor.teachers_))
        self.latency_s = predict_latency(regressor.teacher_predict,
                                         split.X_latency)
        self.fit_s = regressor.report_.timings_s["teachers"]


def measure_regression(model, predict, split, ref, fit_s=None, phases=None):
    """The regression table's columns for one fitted model.

    Parameters
    ----------
    model : estimator or list
        What is measured for size.
    predict : callable
        Its predictions on raw rows (timed on the 10,000 rows).
    split : Split
    ref : RegressionTeachers
    fit_s : float or None
    phases : dict or None
        Phase timings of an HPMRegressor fit.

    Returns
    -------
    dict
    """
    pred = predict(split.X_test)
    size = model_size(model)
    found = scores(split.y_test, pred)
    without_teachers = None
    if fit_s is not None and phases:
        without_teachers = fit_s - phases.get("teachers", 0.0)
    return {
        "status": "ok", **found,
        "retention": found["r2"] / ref.scores["r2"],
        "fidelity": float(r2_score(ref.pred, pred)),
        "compression": ref.size.n_bytes / size.n_bytes,
        "compression_parameters": (
            None if not (size.n_parameters and ref.size.n_parameters)
            else ref.size.n_parameters / size.n_parameters),
        "n_bytes": size.n_bytes, "n_parameters": size.n_parameters,
        "speedup": ref.latency_s / predict_latency(predict, split.X_latency),
        "fit_s": fit_s, "fit_s_without_teachers": without_teachers,
        "phases_s": phases,
    }


def measure_regressor(regressor, fit_s, split, ref):
    """:func:`measure_regression` for a fitted HPMRegressor and its student."""
    figures = measure_regression(regressor.student_, regressor.student_.predict,
                                 split, ref, fit_s,
                                 dict(regressor.report_.timings_s))
    figures.update(report_compression=regressor.report_.compression,
                   student=describe_student(regressor.student_[-1]))
    return figures


def _fit_and_measure(split, ref, teachers, params):
    """A row's figures, or why its fit failed (a failure never stops the run)."""
    try:
        regressor, fit_s = fit_distiller(split, teachers, params, split.seed,
                                         HPMRegressor)
        return measure_regressor(regressor, fit_s, split, ref)
    except Exception as error:
        return failed(error)


def regression_ablations():
    """The regression ablation rows: name -> parameters (None: skipped)."""
    return ablations(REGRESSION_COMPONENTS, HPMRegressor)


def run_regression_split(name, split, options, with_curve):
    """Every row of the regression table (and the curve) on one dataset and seed.

    Parameters
    ----------
    name : str
    split : Split
        Not stratified.
    options : argparse.Namespace
        ``teacher_estimators`` and ``curve_ratios``.
    with_curve : bool

    Returns
    -------
    rows : list of dict
    curve : list of dict
    """
    seed, n_est = split.seed, options.teacher_estimators
    rows = []

    def record(row, figures, kind):
        rows.append({"dataset": name, "seed": seed, "row": row, "kind": kind,
                     **figures})
        log(f"  {name} seed={seed} {row}: " + (
            f"r2={figures['r2']:.4f} rmse={figures['rmse']:.4g} "
            f"fit={figures.get('fit_s') or 0:.1f}s" if "r2" in figures
            else figures.get("error", figures["status"])))

    teachers = make_teachers(seed, n_est, task="regression")
    try:
        default, fit_s = fit_distiller(split, teachers, {}, seed, HPMRegressor)
        ref = RegressionTeachers(default, split)
    except Exception as error:
        failure = failed(f"HPMRegressor() failed: {failed(error)['error']}")
        for row in _row_names():
            record(row, failure, "failed")
        return rows, []
    record(FUSED, _fused_row(ref), "teacher")
    for teacher_name, teacher in zip(TEACHER_NAMES, default.teachers_, strict=True):
        record(f"teacher: {teacher_name}",
               measure_regression(teacher, teacher.predict, split, ref), "teacher")
    record(REG_DEFAULT, measure_regressor(default, fit_s, split, ref), "hpm")
    for row, (which, params) in REGRESSION_BASELINES.items():
        record(row, _fit_and_measure(
            split, ref, make_teachers(seed, n_est, which, "regression"),
            {**_baseline(params), "student": clone(default.student_[-1])}),
            "baseline")
    for row, params in regression_ablations().items():
        figures = ({"status": "skipped", "error": "parameter not in this version"}
                   if params is None else _fit_and_measure(
                       split, ref, make_teachers(seed, n_est, task="regression"),
                       params))
        record(row, figures, "ablation")
    curve = run_regression_curve(name, split, ref, options) if with_curve else []
    return rows, curve


def _baseline(params):
    """A baseline's parameters, with ``chain=False`` where HPMRegressor has one."""
    if "chain" in HPMRegressor().get_params():
        return {"chain": False, **params}
    return params


def _row_names():
    return [FUSED, *(f"teacher: {t}" for t in TEACHER_NAMES), REG_DEFAULT,
            *REGRESSION_BASELINES, *regression_ablations()]


def _fused_row(ref):
    return {"status": "ok", **ref.scores, "retention": 1.0, "fidelity": 1.0,
            "compression": 1.0, "compression_parameters": 1.0, "speedup": 1.0,
            "n_bytes": ref.size.n_bytes, "n_parameters": ref.size.n_parameters,
            "fit_s": ref.fit_s, "fit_s_without_teachers": None}


def run_regression_curve(name, split, ref, options):
    """The regression compression curve on one dataset and seed.

    Parameters
    ----------
    name : str
    split : Split
    ref : RegressionTeachers
    options : argparse.Namespace

    Returns
    -------
    list of dict
    """
    points = []
    for ratio in options.curve_ratios:
        width = curve_width(split, ref, ratio, 1)
        for method, (which, params) in REGRESSION_CURVE_METHODS.items():
            student = MLPRegressionStudent(hidden_layer_sizes=(width,),
                                           random_state=split.seed)
            point = {"dataset": name, "seed": split.seed, "ratio": ratio,
                     "hidden": width, "method": method,
                     "teacher_rmse": ref.scores["rmse"],
                     "teacher_r2": ref.scores["r2"]}
            point.update(_fit_and_measure(
                split, ref, make_teachers(split.seed, options.teacher_estimators,
                                          which, "regression"),
                {**(_baseline(params) if method in ("direct", "plain KD")
                    else params), "student": student}))
            points.append(point)
            log(f"  curve {name} seed={split.seed} {ratio}x ({width} units) "
                f"{method}: " + (f"rmse={point['rmse']:.4g}"
                                 if point["status"] == "ok" else point["error"]))
    return points


def summarise_regression(rows):
    """:func:`summarise` with the regression columns, Δ RMSE vs the default."""
    return summarise(rows, REGRESSION_METRICS, REG_DEFAULT, "rmse")


def summarise_regression_curve(points):
    """Mean RMSE and R² per dataset, ratio and method; gap closed in RMSE.

    Parameters
    ----------
    points : list of dict

    Returns
    -------
    list of dict
    """
    summary = []
    for dataset, ratio in dict.fromkeys((p["dataset"], p["ratio"]) for p in points):
        mine = [p for p in points if (p["dataset"], p["ratio"]) == (dataset, ratio)]
        teacher = float(np.mean([p["teacher_rmse"] for p in mine]))
        for method in REGRESSION_CURVE_METHODS:
            runs = [p for p in mine if p["method"] == method]
            ok = [p for p in runs if p["status"] == "ok"]
            summary.append({
                "dataset": dataset, "ratio": ratio, "method": method,
                "hidden": mine[0]["hidden"], "teacher_rmse": teacher,
                **{key: _stats([p[key] for p in ok]) for key in
                   ("rmse", "r2", "retention", "compression",
                    "compression_parameters")},
                "status": _status(runs)})
        _close_gap(summary[-len(REGRESSION_CURVE_METHODS):], teacher)
    return summary


def _close_gap(entries, teacher):
    """(RMSE_direct - RMSE) / (RMSE_direct - RMSE_teachers) where it counts."""
    direct = next(e["rmse"] for e in entries if e["method"] == "direct")
    gap = None if direct is None else direct["mean"] - teacher
    for entry in entries:
        entry["direct_gap"] = gap
        entry["gap_closed"] = None
        if (gap is not None and gap >= 0.01 * teacher
                and entry["method"] != "direct" and entry["rmse"] is not None):
            entry["gap_closed"] = (direct["mean"] - entry["rmse"]["mean"]) / gap


def regression_targets(table, curve, scale=None):
    """Where each target of issue 16 stands, from this run's numbers.

    Parameters
    ----------
    table : list of dict
        Output of :func:`summarise_regression`.
    curve : list of dict
        Output of :func:`summarise_regression_curve`.
    scale : None
        Unused (no scale section), for the shape of the classification one.

    Returns
    -------
    dict
    """
    rows = {(e["dataset"], e["row"]): e for e in table}
    datasets = list(dict.fromkeys(e["dataset"] for e in table))
    at_100 = [c for c in curve if c["ratio"] == 100 and c["method"] == REG_DEFAULT]
    gaps = [c["gap_closed"] for c in at_100 if c["gap_closed"] is not None]
    wins = []
    for dataset in datasets:
        mine = [_mean(rows, dataset, row) for row in
                (REG_DEFAULT, REG_DIRECT, REG_PLAIN_KD)]
        if None not in mine:
            wins.append(mine[0] < min(mine[1:]))
    retention = [_mean(rows, d, REG_DEFAULT, "retention") for d in datasets]
    retention = [r for r in retention if r is not None]
    speedups = [s for s in (_mean(rows, d, REG_DEFAULT, "speedup")
                            for d in datasets) if s is not None]
    return {
        "gap_closed_100x": {
            "target": "at 100x: mean gap closed in RMSE >= 50 %",
            "mean": float(np.mean(gaps)) if gaps else None,
            "points": len(at_100), "points_with_gap": len(gaps)},
        "beats_direct_and_kd": {
            "target": "HPMRegressor() has a lower RMSE than direct and plain KD "
                      "on >= 4 of 5 datasets",
            "wins": int(sum(wins)), "datasets": len(wins)},
        "retention": {
            "target": "median R² retention >= 0.99 at the default size",
            "median": float(np.median(retention)) if retention else None,
            "datasets": len(retention)},
        "predict_speedup": {
            "target": "predict >= 20x faster than the teachers on 10k rows",
            "min": min(speedups) if speedups else None,
            "median": float(np.median(speedups)) if speedups else None,
            "datasets_met": int(sum(s >= 20 for s in speedups)),
            "datasets": len(speedups)},
    }


def _mean(rows, dataset, row, metric="rmse"):
    entry = rows.get((dataset, row))
    return None if not entry or not entry[metric] else entry[metric]["mean"]


def _num(stats, digits=4):
    if not stats:
        return "—"
    return f"{stats['mean']:.{digits}g} ± {stats['std']:.2g}"


def _times(stats):
    if not stats:
        return "—"
    value = stats["mean"]
    return f"{value:.2g}x" if value < 10 else f"{value:.0f}x"


def regression_markdown(results):
    """The published markdown of a regression run.

    Parameters
    ----------
    results : dict
        The results document (``regression_<name>.json``).

    Returns
    -------
    str
    """
    meta = results["meta"]
    parts = [
        f"# Regression benchmark suite: {meta['suite']}",
        f"Command: `{meta['command']}`; seeds {meta['seeds']}; rows per dataset: "
        f"{meta['rows_note']}; total wall time {meta['wall_s'] / 60:.1f} min on "
        f"{meta['machine']}, everything on one thread; library at commit "
        f"`{meta['library']['commit'][:7]}`"
        + (" (skdistill/ modified)" if meta["library"]["skdistill_modified"] else "")
        + ". Protocol: the docstring of `benchmarks/suite/regression.py`; "
        "datasets: `benchmarks/datasets.py` (`REGRESSION_DATASETS`).",
        "Test rows, mean ± std over seeds; RMSE and MAE in the target's units. "
        "Retention is R² / the fused teachers' R²; compression and speed-up are "
        "teachers / model.",
        "## Headline: test RMSE",
        _headline(results["table"]),
        "## Where the targets stand",
        _targets_text(results["targets"]),
    ]
    for dataset, info in results["datasets"].items():
        parts += [f"## {dataset}",
                  f"{info['source']}, target `{info['target']}`: {info['task']}. "
                  f"{info['n_rows']:,} rows used, {info['n_features']} features "
                  f"({info['n_categorical']} categorical).",
                  _dataset_table(results["table"], dataset)]
    if results["curve"]:
        parts += ["## Compression curve",
                  "One hidden layer sized for the target ratio in parameters; "
                  "gap closed = (RMSE_direct − RMSE) / (RMSE_direct − "
                  "RMSE_teachers) where direct's RMSE exceeds the teachers' by "
                  ">= 1 %.", _curve_table(results["curve"])]
    return "\n\n".join(parts) + "\n"


def _headline(table):
    rows = {(e["dataset"], e["row"]): e for e in table}
    methods = (FUSED, REG_DIRECT, REG_PLAIN_KD, REG_DEFAULT)
    lines = ["| dataset | teachers (fused) | direct | plain KD | HPMRegressor() | "
             "HPMRegressor(): R² retention | compression (bytes) | speed-up | "
             "fit s |", "|---" * 9 + "|"]
    for dataset in dict.fromkeys(e["dataset"] for e in table):
        cells = [_num(rows[(dataset, m)]["rmse"]) if (dataset, m) in rows else "—"
                 for m in methods]
        hpm = rows.get((dataset, REG_DEFAULT))
        hpm = hpm if hpm and hpm["rmse"] else None
        cells += [_num(hpm and hpm["retention"], 3), _times(hpm and hpm["compression"]),
                  _times(hpm and hpm["speedup"]), _num(hpm and hpm["fit_s"], 2)]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _dataset_table(table, dataset):
    lines = ["| row | R² | RMSE | Δ RMSE vs HPMRegressor() | MAE | retention | "
             "fidelity (R²) | compression bytes (params) | speed-up 10k | fit s | "
             "student | status |", "|---" * 12 + "|"]
    for e in (e for e in table if e["dataset"] == dataset):
        params = e["compression_parameters"]
        compression = _times(e["compression"]) + (
            f" ({_times(params)})" if params else "")
        lines.append(
            f"| {e['row']} | {_num(e['r2'], 3)} | {_num(e['rmse'])} | "
            f"{'0' if e['row'] == REG_DEFAULT else _num(e['delta_rmse'], 3)} | "
            f"{_num(e['mae'])} | {_num(e['retention'], 3)} | "
            f"{_num(e['fidelity'], 3)} | {compression} | {_times(e['speedup'])} | "
            f"{_num(e['fit_s'], 2)} | {e['student'] or '—'} | "
            f"{e['status'].replace('|', '/')} |")
    return "\n".join(lines)


def _curve_table(curve):
    lines = ["| dataset | target ratio | hidden units | method | compression params "
             "(bytes) | RMSE | R² | direct − teachers RMSE | gap closed |",
             "|---" * 9 + "|"]
    for c in curve:
        gap = "—" if c["direct_gap"] is None else f"{c['direct_gap']:.4g}"
        closed = "—" if c["gap_closed"] is None else f"{100 * c['gap_closed']:.0f} %"
        lines.append(
            f"| {c['dataset']} | {c['ratio']}x | {c['hidden']} | {c['method']} | "
            f"{_times(c['compression_parameters'])} ({_times(c['compression'])}) | "
            f"{_num(c['rmse']) if c['rmse'] else c['status']} | "
            f"{_num(c['r2'], 3)} | {gap} | {closed} |")
    return "\n".join(lines)


def _targets_text(found):
    g, w = found["gap_closed_100x"], found["beats_direct_and_kd"]
    r, s = found["retention"], found["predict_speedup"]
    lines = [
        f"- **{g['target']}**: " + (
            "no curve point at 100x with a gap in this run." if g["mean"] is None
            else f"{100 * g['mean']:.0f} % over {g['points_with_gap']} of "
                 f"{g['points']} point(s)."),
        f"- **{w['target']}**: {w['wins']} of {w['datasets']} datasets (means "
        "over seeds).",
        f"- **{r['target']}**: " + ("—" if r["median"] is None else
                                     f"{r['median']:.3f} over {r['datasets']} "
                                     "datasets."),
        f"- **{s['target']}**: " + ("—" if s["median"] is None else
                                     f"{s['datasets_met']} of {s['datasets']} "
                                     f"datasets (min {s['min']:.1f}x, median "
                                     f"{s['median']:.1f}x)."),
    ]
    return "\n".join(lines)

