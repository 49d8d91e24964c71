"""The markdown of a run: its tables, where the targets stand, the README headline."""

import os
import re

from ..common import ROOT, log, pct
from .config import (
    DEFAULT,
    DIRECT,
    FUSED,
    PLAIN_KD,
    README_END,
    README_START,
    REFERENCE,
    TAKD,
)


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
    """One line per dataset: the accuracy of each method, the default's costs.

    Parameters
    ----------
    table : list of dict
        Output of :func:`benchmarks.suite.summarise.summarise`.

    Returns
    -------
    str
    """
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
                cells.append(pct(entry["accuracy"]))
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
    """Every row of one dataset, as a markdown table.

    Parameters
    ----------
    table : list of dict
        Output of :func:`benchmarks.suite.summarise.summarise`.
    dataset : str

    Returns
    -------
    str
    """
    lines = ["| row | accuracy | Δ acc vs HPMDistiller() | retention | fidelity | "
             "compression bytes (params) | speed-up 10k | fit s (w/o teachers) | "
             "student | status |", "|---" * 10 + "|"]
    for e in (e for e in table if e["dataset"] == dataset):
        params = e["compression_parameters"]
        compression = _times(e["compression"]) + (
            f" ({_times(params)})" if params else "")
        fit = _secs(e["fit_s"]) + (f" ({e['fit_s_without_teachers']['mean']:.1f})"
                                   if e["fit_s_without_teachers"] else "")
        delta = pct(e["delta_accuracy"], signed=True) if e["row"] != DEFAULT \
            else "0"
        status = e["status"].replace("|", "/")
        lines.append(
            f"| {e['row']} | {pct(e['accuracy'])} | {delta} | "
            f"{pct(e['retention'])} | {pct(e['fidelity'])} | {compression} | "
            f"{_times(e['speedup'])} | {fit} | {e['student'] or '—'} | "
            f"{status} |")
    return "\n".join(lines)


def curve_table(curve):
    """The compression curve, one line per dataset, size and method.

    Parameters
    ----------
    curve : list of dict
        Output of :func:`benchmarks.suite.summarise.summarise_curve`.

    Returns
    -------
    str
    """
    lines = ["| dataset | target ratio | hidden units | method | compression params "
             "(bytes) | accuracy | retention | teacher − direct | gap closed |",
             "|---" * 9 + "|"]
    for c in curve:
        gap = "—" if c["direct_gap"] is None else f"{100 * c['direct_gap']:.1f} pts"
        closed = "—" if c["gap_closed"] is None else f"{100 * c['gap_closed']:.0f} %"
        accuracy = pct(c["accuracy"]) if c["accuracy"] else c["status"]
        lines.append(
            f"| {c['dataset']} | {c['ratio']}x | {c['hidden']} | {c['method']} | "
            f"{_times(c['compression_parameters'])} "
            f"({_times(c['compression'])}) | {accuracy} | "
            f"{pct(c['retention'])} | {gap} | {closed} |")
    return "\n".join(lines)


def targets_text(found):
    """Where the targets stand, as a markdown list.

    Parameters
    ----------
    found : dict
        Output of :func:`benchmarks.suite.summarise.targets`.

    Returns
    -------
    str
    """
    lines = [_compression_line(found["compression_100x"])]
    w = found["beats_direct_and_kd"]
    if w["datasets"]:
        lines.append(f"- **HPMDistiller() beats direct and plain KD** (target >= 80 "
                     f"% of datasets): {w['wins']} of {w['datasets']} datasets "
                     "(mean over seeds; the spread is in the tables).")
    for key in ("beats_direct_kd_and_lightgbm", "prefit_beats_direct_and_kd"):
        w = found.get(key)
        if w and w["datasets"]:
            lines.append(f"- **{w['target']}**: {w['wins']} of {w['datasets']} "
                         "datasets (mean over seeds).")
    lines += [_reference_line(e) for e in found["against_reference"]["datasets"]]
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


def _compression_line(c):
    if not c["points"]:
        return "- **>= 100x compression**: no curve point at >= 100x in this run."
    closed = ("no point where direct loses >= 1 pt" if c["mean_gap_closed"] is
              None else f"mean gap closed {100 * c['mean_gap_closed']:.0f} % "
              f"over {c['points_with_gap']} point(s) where direct loses >= 1 pt")
    return (f"- **>= 100x compression** (target: median retention >= "
            f"99.5 %, gap closed >= 75 %): median retention of "
            f"HPMDistiller() {100 * c['median_retention']:.1f} % over "
            f"{c['points']} point(s); {closed}.")


def _reference_line(e):
    if "reference_fit_s" not in e:
        return (f"- **against the reference, {e['dataset']}**: the "
                f"reference {e['reference_status'].rstrip('.')}.")
    return (f"- **against the reference, {e['dataset']}**: fit "
            f"{e['hpm_fit_s']:.1f} s ({e['hpm_fit_s_without_teachers']:.1f} s "
            f"without fitting the teachers) vs {e['reference_fit_s']:.1f} s "
            "(given the teachers' probabilities); compression "
            f"{e['hpm_compression']:.0f}x vs {e['reference_compression']:.0f}x; "
            f"accuracy {100 * e['hpm_accuracy']:.1f} vs "
            f"{100 * e['reference_accuracy']:.1f} %: "
            f"{'met' if e['met'] else 'not met'}.")


def to_markdown(results):
    """The published markdown of a run.

    Parameters
    ----------
    results : dict
        The results document (``suite_<name>.json``).

    Returns
    -------
    str
    """
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


def update_readme(results, markdown, readme=ROOT / "README.md"):
    """Replace the README's headline block with this run's table.

    Parameters
    ----------
    results : dict
        The results document.
    markdown : path-like
        The run's markdown, which the block links to.
    readme : path-like, default=README.md of the checkout
    """
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        log(f"{readme} has no {README_START} block: not updated")
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

