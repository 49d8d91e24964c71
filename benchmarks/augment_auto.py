"""``augment="auto"`` against no augmentation and against MUNGE rows always.

Two settings, the same seeds, splits and teachers as ``benchmarks/run.py`` (its
protocol: stratified 75/25 split per seed, test rows only scored, one thread):

- **configured**: ``student="auto"`` (the defaults) on the suite's datasets. The
  medium suite found MUNGE rows for every fit losing to the default on 6 of 10
  datasets: does the validated choice avoid those losses?
- **small**: the compression curve's one-hidden-layer MLP, sized for 100x fewer
  parameters than the teachers, on the curve's datasets, where MUNGE rows closed
  26-67 % of the gap to the teachers: does the choice keep that gain? "direct"
  (``alpha=0``) gives the gap.

Run::

    python -m benchmarks.augment_auto                  # all of it, one process
    python -m benchmarks.augment_auto --setting small --datasets digits email

Results: ``results/augment_auto.json`` (every fit) and ``augment_auto.md``;
``--merge A.json B.json`` joins runs of disjoint datasets.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from skdistill import MLPStudent

from .common import RESULTS, library, log, one_thread, write_json
from .datasets import DATASETS, load
from .suite.config import SUITES
from .suite.fit import (
    Split,
    Teachers,
    curve_width,
    fit_distiller,
    make_teachers,
    warm_up,
)

COMMAND = "python -m benchmarks.augment_auto"
CURVE_DATASETS = SUITES["full"]["curve_datasets"]
RATIO = 100
METHODS = {
    "configured": {"default": {}, "munge": {"augment": "munge"},
                   "auto": {"augment": "auto"}},
    "small": {"direct": {"alpha": 0.0}, "default": {},
              "munge": {"augment": "munge"}, "auto": {"augment": "auto"}},
}


def run_dataset(name, setting, seeds, max_rows, n_estimators=None):
    """Every method of ``setting`` on one dataset, seed by seed."""
    fits = []
    for seed in seeds:
        X, y, _ = load(name, max_rows, random_state=seed)
        split = Split(X, y, seed)
        default, fit_s = fit_distiller(split, make_teachers(seed, n_estimators),
                                        {}, seed)
        ref = Teachers(default, split)
        student = None
        if setting == "small":
            student = MLPStudent(
                hidden_layer_sizes=(curve_width(split, ref, RATIO,
                                                 len(default.classes_)),),
                random_state=seed)
        for method, params in METHODS[setting].items():
            if setting == "small" or method != "default":
                params = {**params, **({"student": student} if student else {})}
                distiller, fit_s = fit_distiller(
                    split, make_teachers(seed, n_estimators), params, seed)
            else:
                distiller = default
            check = distiller.report_.details["configuration"].get(
                "augmentation_check") or {}
            fit = {"dataset": name, "setting": setting, "seed": seed,
                   "method": method, "teacher_accuracy": ref.accuracy,
                   "accuracy": float(distiller.score(split.X_test, split.y_test)),
                   "fit_s": fit_s, "student": repr(distiller.student_[-1]),
                   "n_synthetic_rows": distiller.report_.details["n_synthetic_rows"],
                   "chosen": check.get("chosen", "-") if method == "auto" else None}
            fits.append(fit)
            log(f"  {setting} {name} seed={seed} {method}: acc={fit['accuracy']:.4f}"
                f" fit={fit_s:.1f}s chosen={fit['chosen']}", stdout=True)
    return fits


def summarise(fits):
    """Per setting, dataset and method: accuracy, Δ against the default, time."""
    rows = []
    keys = dict.fromkeys((f["setting"], f["dataset"]) for f in fits)
    for setting, dataset in keys:
        mine = [f for f in fits if (f["setting"], f["dataset"]) == (setting, dataset)]
        by = {m: {f["seed"]: f for f in mine if f["method"] == m}
              for m in METHODS[setting]}
        base = by["default"]
        direct = by.get("direct")
        teacher = float(np.mean([f["teacher_accuracy"] for f in mine]))
        for method, runs in by.items():
            seeds = sorted(runs)
            accuracy = [runs[s]["accuracy"] for s in seeds]
            row = {"setting": setting, "dataset": dataset, "method": method,
                   "teacher_accuracy": teacher,
                   "accuracy": float(np.mean(accuracy)),
                   "accuracy_std": float(np.std(accuracy)),
                   "delta_vs_default": float(np.mean(
                       [runs[s]["accuracy"] - base[s]["accuracy"] for s in seeds])),
                   "fit_time_vs_default": float(np.median(
                       [runs[s]["fit_s"] / base[s]["fit_s"] for s in seeds])),
                   "munge_chosen": (sum(runs[s]["chosen"] == "munge" for s in seeds)
                                    if method == "auto" else None),
                   "n_seeds": len(seeds)}
            if direct:
                gap = teacher - float(np.mean([direct[s]["accuracy"] for s in seeds]))
                row["gap_closed"] = ((row["accuracy"] - (teacher - gap)) / gap
                                     if gap >= 0.01 and method != "direct" else None)
            rows.append(row)
    return rows


def to_markdown(document):
    """The summary as Markdown tables, one per setting."""
    lines = ["# augment='auto' against no augmentation and MUNGE always", "",
             f"Command: `{document['command']}`; seeds {document['seeds']}; at most "
             f"{document['max_rows']:,} rows per dataset; library at commit "
             f"`{document['commit']}`. Test accuracy (%), mean ± std over seeds; "
             "Δ and fit-time ratios paired by seed against the default "
             "(augment=None) of the same run.", ""]
    for setting in METHODS:
        rows = [r for r in document["summary"] if r["setting"] == setting]
        if not rows:
            continue
        gap = setting == "small"
        lines += [f"## {setting}", "",
                  "| dataset | teachers | method | accuracy | Δ vs default | "
                  + ("gap closed | " if gap else "")
                  + "fit time vs default | MUNGE chosen |",
                  "|---|---|---|---|---|" + ("---|" if gap else "") + "---|---|"]
        for r in rows:
            closed = r.get("gap_closed")
            lines.append(
                f"| {r['dataset']} | {100 * r['teacher_accuracy']:.1f} | "
                f"{r['method']} | {100 * r['accuracy']:.1f} ± "
                f"{100 * r['accuracy_std']:.1f} | {100 * r['delta_vs_default']:+.1f} | "
                + ((f"{100 * closed:.0f} % | " if closed is not None else "— | ")
                   if gap else "")
                + f"{r['fit_time_vs_default']:.2f}x | "
                + (f"{r['munge_chosen']}/{r['n_seeds']}"
                   if r["munge_chosen"] is not None else "") + " |")
        lines.append("")
    return "\n".join(lines)


def write(document, out):
    """Write ``augment_auto.json`` and ``augment_auto.md`` under ``out``."""
    write_json(out / "augment_auto.json", document)
    (out / "augment_auto.md").write_text(to_markdown(document) + "\n")


def main(argv=None):
    """Run the settings asked for (or merge earlier runs) and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=[*METHODS, "both"], default="both")
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS),
                        help="instead of all (configured) and the curve's (small)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--teacher-estimators", type=int,
                        help="trees per teacher (default: the libraries' 100)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON")
    options = parser.parse_args(argv)
    if options.merge:
        documents = [json.loads(path.read_text()) for path in options.merge]
        fits = [f for d in documents for f in d["fits"]]
        document = {**documents[0], "fits": fits, "summary": summarise(fits),
                    "command": " && ".join(d["command"] for d in documents)}
        write(document, options.out)
        return document
    settings = list(METHODS) if options.setting == "both" else [options.setting]
    fits = []
    start = time.perf_counter()
    with one_thread():
        warm_up()
        for setting in settings:
            datasets = options.datasets or (
                list(DATASETS) if setting == "configured" else list(CURVE_DATASETS))
            if setting == "small":
                datasets = [d for d in datasets if d in CURVE_DATASETS]
            for name in datasets:
                fits += run_dataset(name, setting, options.seeds, options.max_rows,
                                    options.teacher_estimators)
    document = {"command": " ".join([COMMAND, *(argv or [])]),
                "seeds": options.seeds, "max_rows": options.max_rows,
                "commit": library()["commit"][:7],
                "wall_s": time.perf_counter() - start, "fits": fits,
                "summary": summarise(fits)}
    write(document, options.out)
    return document


if __name__ == "__main__":
    main()
