"""Summaries over seeds, the compression curve's gap closed, and the targets."""

import numpy as np

from ..common import mean_std
from .config import (
    CURVE_METHODS,
    DEFAULT,
    DIRECT,
    LGBM_DIRECT,
    LGBM_DIRECT_BYTES,
    METRICS,
    PLAIN_KD,
    PREFIT_DEFAULT,
    PREFIT_KD,
    REFERENCE,
)


def _stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {**mean_std(values), "n": len(values)}


def summarise(rows, metrics=METRICS, default=DEFAULT, score="accuracy"):
    """Mean ± std over seeds per dataset and row, and Δ score vs the default.

    Parameters
    ----------
    rows : list of dict
        Every fit of the table, every seed.
    metrics : sequence of str, default=METRICS
        The columns summarised.
    default : str, default=DEFAULT
        The row the others are paired with (by seed).
    score : str, default="accuracy"
        The column of the difference, ``delta_<score>``.

    Returns
    -------
    list of dict
    """
    default_score = {(r["dataset"], r["seed"]): r[score] for r in rows
                     if r["row"] == default and r["status"] == "ok"}
    table = []
    for dataset, row in dict.fromkeys((r["dataset"], r["row"]) for r in rows):
        runs = [r for r in rows if (r["dataset"], r["row"]) == (dataset, row)]
        ok = [r for r in runs if r["status"] == "ok"]
        entry = {"dataset": dataset, "row": row, "kind": runs[0]["kind"],
                 "n_seeds": len(runs), "n_ok": len(ok),
                 "status": _status(runs)}
        for metric in metrics:
            entry[metric] = _stats([r.get(metric) for r in ok])
        entry[f"delta_{score}"] = _stats(
            [r[score] - default_score[(dataset, r["seed"])] for r in ok
             if (dataset, r["seed"]) in default_score])
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
    """Mean accuracy per dataset, ratio and method; gap closed where it counts.

    Parameters
    ----------
    points : list of dict
        The curve's points of every seed.

    Returns
    -------
    list of dict
    """
    summary = []
    for dataset, ratio in dict.fromkeys((p["dataset"], p["ratio"]) for p in points):
        mine = [p for p in points if (p["dataset"], p["ratio"]) == (dataset, ratio)]
        teacher = float(np.mean([p["teacher_accuracy"] for p in mine]))
        for method in CURVE_METHODS:
            ok = [p for p in mine if p["method"] == method and p["status"] == "ok"]
            summary.append({
                "dataset": dataset, "ratio": ratio, "method": method,
                "hidden": mine[0]["hidden"], "teacher_accuracy": teacher,
                "accuracy": _stats([p["accuracy"] for p in ok]),
                "retention": _stats([p["retention"] for p in ok]),
                "compression_parameters": _stats(
                    [p["compression_parameters"] for p in ok]),
                "compression": _stats([p["compression"] for p in ok]),
                "status": _status([p for p in mine if p["method"] == method]),
            })
        _close_gap(summary[-len(CURVE_METHODS):], teacher)
    return summary


def _close_gap(entries, teacher):
    """Each method's share of the gap between direct and the teachers it closes."""
    direct = next(e["accuracy"] for e in entries if e["method"] == "direct")
    gap = None if direct is None else teacher - direct["mean"]
    for entry in entries:
        entry["direct_gap"] = gap
        entry["gap_closed"] = None
        if (gap is not None and gap >= 0.01 and entry["method"] != "direct"
                and entry["accuracy"] is not None):
            entry["gap_closed"] = (entry["accuracy"]["mean"] - direct["mean"]) / gap


def targets(table, curve, scale):
    """Where each target of the issue stands, from this run's numbers.

    Parameters
    ----------
    table : list of dict
        Output of :func:`summarise`.
    curve : list of dict
        Output of :func:`summarise_curve`.
    scale : list of dict
        The scale points.

    Returns
    -------
    dict
    """
    rows = {(e["dataset"], e["row"]): e for e in table}
    datasets = list(dict.fromkeys(e["dataset"] for e in table))
    found = {
        "compression_100x": _compression_target(curve),
        "beats_direct_and_kd": _wins_target(rows, datasets),
        "beats_direct_kd_and_lightgbm": _wins_target(
            rows, datasets, DEFAULT,
            (DIRECT, PLAIN_KD, LGBM_DIRECT, LGBM_DIRECT_BYTES),
            "HPMDistiller() beats direct, plain KD and both plain LightGBMs on "
            ">= 9 of 10 datasets"),
        "prefit_beats_direct_and_kd": _wins_target(
            rows, datasets, PREFIT_DEFAULT,
            (DIRECT, PREFIT_KD, LGBM_DIRECT, LGBM_DIRECT_BYTES),
            "HPMDistiller() with prefit teachers beats direct, plain KD from the "
            "prefit XGBoost and both plain LightGBMs on >= 9 of 10 datasets"),
        "against_reference": {
            "target": "HPMDistiller() fit no longer than the reference's, student "
                      ">= 10x smaller than the teachers, at least as accurate as "
                      "the reference",
            "datasets": _against_reference(rows, datasets)},
        "predict_speedup": _speedup_target(rows, datasets),
        "not_measured_here": [
            "MLP epoch time against a bare torch loop (benchmarks/epoch_time.py)",
            "n_jobs=2 against n_jobs=1: benchmarks/parallel.py"],
    }
    if scale:
        found["flights_scale"] = {
            "target": "flights fit completes; peak memory and time vs rows reported",
            "points": [{k: p.get(k) for k in ("fraction", "status", "n_train",
                                              "fit_s", "peak_rss_mb")}
                       for p in scale]}
    return found


def _mean(rows, dataset, row, metric="accuracy"):
    entry = rows.get((dataset, row))
    return None if not entry or not entry[metric] else entry[metric]["mean"]


def _compression_target(curve):
    hpm_points = [c for c in curve if c["ratio"] >= 100 and c["method"] == DEFAULT
                  and c["retention"]]
    gaps = [c["gap_closed"] for c in hpm_points if c["gap_closed"] is not None]
    return {
        "target": "at >= 100x: median retention >= 99.5 %, mean gap closed >= 75 % "
                  "where direct loses >= 1 pt",
        "median_retention": float(np.median([c["retention"]["mean"]
                                             for c in hpm_points]))
        if hpm_points else None,
        "mean_gap_closed": float(np.mean(gaps)) if gaps else None,
        "points": len(hpm_points), "points_with_gap": len(gaps)}


def _wins_target(rows, datasets, row=DEFAULT, against=(DIRECT, PLAIN_KD),
                 target="HPMDistiller() beats direct and plain KD on >= 80 % of "
                        "datasets"):
    """On how many datasets ``row`` is more accurate than every row ``against``.

    A dataset counts only where all of them have an accuracy (rows left out by
    ``--rows`` or skipped leave it out).
    """
    wins = []
    for dataset in datasets:
        hpm = _mean(rows, dataset, row)
        others = [_mean(rows, dataset, other) for other in against]
        if hpm is not None and None not in others:
            wins.append(hpm > max(others))
    return {
        "target": target, "row": row, "against": list(against),
        "wins": int(sum(wins)), "datasets": len(wins),
        "fraction": float(np.mean(wins)) if wins else None}


def _against_reference(rows, datasets):
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
    return against


def _speedup_target(rows, datasets):
    speedups = [_mean(rows, d, DEFAULT, "speedup") for d in datasets]
    speedups = [s for s in speedups if s is not None]
    return {
        "target": "student predict >= 20x faster than the teachers on 10k rows",
        "min": min(speedups) if speedups else None,
        "median": float(np.median(speedups)) if speedups else None,
        "datasets_met": int(sum(s >= 20 for s in speedups)),
        "datasets": len(speedups)}
