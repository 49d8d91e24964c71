"""Small data, small cost: the default fit at <= 1,000 rows, before and after.

Cases (issue 15's target: <= 3 s on 2 quiet cores at <= 1,000 rows, the
accuracy of the library before within the seeds' spread):

- ``breast_cancer``: the README's minimal example, 70/30 split (398 training
  rows), an ``XGBClassifier(n_jobs=1)`` and a ``RandomForestClassifier(n_jobs=1)``
  fitted on the training rows;
- ``mlc_churn``, ``email``, ``hpc_data``: 1,000-row stratified samples, the
  suite's 75/25 split (750 training rows) and its three teachers
  (``suite.fit.make_teachers``) fitted on the training rows.

The teachers are fitted once per dataset and seed here and pickled; each
library (``--libraries``: checkouts whose ``skdistill`` is imported, e.g.
``/work/main`` for the code before and ``.`` for this one) fits
``HPMDistiller(FrozenEstimator(t) for t in teachers, random_state=seed)``,
defaults otherwise, in a process of its own (one per dataset and library, the
libraries alternating, each after one untimed warm-up fit). Reported: fit
seconds and test accuracy per seed, and their ratios/differences paired by seed
against the first library.

``--max-rows`` samples fewer rows of the suite datasets; ``--student mlp``
names ``MLPStudent()`` instead of the default search (the student whose
``augment="auto"`` check is the costliest).

``--grid`` adds the README's ``GridSearchCV`` block (two frozen teachers,
``MLPStudent``, ``{"student__hidden_layer_sizes": [(16,), (64, 32)],
"temperature": [1.0, 3.0]}``, 5 folds) on breast_cancer's 398 training rows,
against the same grid over plain KD (the same ``MLPStudent`` fitted on
standardized rows with the mean of the two teachers' probabilities as soft
targets, ``alpha=0.7``), with the last library.

Run::

    nice -n 10 python -m benchmarks.small_data_time --libraries /work/main . --grid

Results: ``results/small_data_time.json`` and ``results/small_data_time.md``.
"""

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import StandardScaler

RESULTS = Path(__file__).parent / "results"
DATASETS = ("breast_cancer", "mlc_churn", "email", "hpc_data")
SEEDS = (0, 1, 2)
MAX_ROWS = 1_000


def _split(name, seed, max_rows=MAX_ROWS):
    """Training and test rows of one case (a stratified sample of
    ``max_rows`` rows but for breast_cancer)."""
    from sklearn.model_selection import train_test_split

    from .datasets import load

    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        return train_test_split(X, y, test_size=0.3, random_state=seed)
    X, y, _ = load(name, max_rows, random_state=seed)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def _teachers(name, seed, X_train, y_train):
    """The case's teachers, fitted on the training rows."""
    if name == "breast_cancer":
        from sklearn.ensemble import RandomForestClassifier
        from xgboost import XGBClassifier

        teachers = [XGBClassifier(n_jobs=1, random_state=seed),
                    RandomForestClassifier(n_jobs=1, random_state=seed)]
    else:
        from .suite.fit import make_teachers

        teachers = make_teachers(seed)
    return [teacher.fit(X_train, y_train) for teacher in teachers]


def prepare(datasets, seeds, folder, max_rows=MAX_ROWS):
    """Pickle each case's split and fitted teachers; the seconds they took."""
    seconds = {}
    for name in datasets:
        for seed in seeds:
            X_train, X_test, y_train, y_test = _split(name, seed, max_rows)
            started = time.perf_counter()
            teachers = _teachers(name, seed, X_train, y_train)
            seconds[f"{name}/{seed}"] = time.perf_counter() - started
            with open(folder / f"{name}-{seed}.pkl", "wb") as file:
                pickle.dump((X_train, X_test, y_train, y_test, teachers), file)
    return seconds


def worker(library, name, seeds, folder, student="auto"):
    """Fit the default distiller (``student="mlp"``: with ``MLPStudent()``
    named) on each seed's case with ``library``'s ``skdistill`` (run in a
    process of its own); the rows as JSON."""
    sys.path.insert(0, str(Path(library).resolve()))
    from sklearn.frozen import FrozenEstimator

    import skdistill
    from skdistill import HPMDistiller, MLPStudent

    from .suite.fit import warm_up

    warm_up()
    named = {} if student == "auto" else {"student": MLPStudent()}
    rows, source = [], str(Path(skdistill.__file__).parent.parent)
    for seed in seeds:
        with open(folder / f"{name}-{seed}.pkl", "rb") as file:
            X_train, X_test, y_train, y_test, teachers = pickle.load(file)
        distiller = HPMDistiller([FrozenEstimator(t) for t in teachers],
                                 random_state=seed, **named)
        started = time.perf_counter()
        distiller.fit(X_train, y_train)
        seconds = time.perf_counter() - started
        configuration = distiller.report_.details["configuration"]
        check = configuration.get("augmentation_check") or {}
        rows.append({
            "library": library, "source": source, "dataset": name, "seed": seed,
            "n_train": len(y_train), "fit_s": seconds,
            "test_accuracy": float(distiller.score(X_test, y_test)),
            "n_search_fits": configuration.get("n_fits", 0),
            "student": type(distiller.student_[-1]).__name__,
            "munge": check.get("chosen") == "munge",
            "timings_s": distiller.report_.timings_s})
    return rows


def run_worker(library, name, seeds, folder, student="auto"):
    """:func:`worker` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.small_data_time", "--worker", library,
         name, str(folder), "--seeds", *map(str, seeds), "--student", student],
        capture_output=True, text=True, check=False,
        cwd=Path(__file__).parent.parent)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


class PlainKD(ClassifierMixin, BaseEstimator):
    """Plain KD for the grid: the student on standardized rows, the mean of
    the teachers' probabilities as its soft targets (alpha 0.7)."""

    def __init__(self, teachers, student, temperature=1.0):
        self.teachers = teachers
        self.student = student
        self.temperature = temperature

    def fit(self, X, y):
        self.scaler_ = StandardScaler().fit(X)
        soft = np.mean([t.predict_proba(X) for t in self.teachers], axis=0)
        self.student_ = clone(self.student).fit(
            self.scaler_.transform(X), y, soft_targets=soft, alpha=0.7,
            temperature=self.temperature)
        self.classes_ = self.student_.classes_
        return self

    def predict(self, X):
        return self.student_.predict(self.scaler_.transform(X))


def grid(library, folder):
    """The README's GridSearchCV block and the same grid over plain KD."""
    sys.path.insert(0, str(Path(library).resolve()))
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GridSearchCV

    from skdistill import HPMDistiller, MLPStudent

    from .suite.fit import warm_up

    warm_up()
    with open(folder / "breast_cancer-0.pkl", "rb") as file:
        X_train, X_test, y_train, y_test, (xgb, forest) = pickle.load(file)
    frozen = [FrozenEstimator(xgb), FrozenEstimator(forest)]
    space = {"student__hidden_layer_sizes": [(16,), (64, 32)],
             "temperature": [1.0, 3.0]}
    result = {}
    for label, estimator in (
            ("HPMDistiller", HPMDistiller(teachers=frozen, student=MLPStudent(),
                                          random_state=0)),
            ("plain KD", PlainKD(frozen, MLPStudent(random_state=0)))):
        started = time.perf_counter()
        search = GridSearchCV(estimator, space).fit(X_train, y_train)
        result[label] = {"fit_s": time.perf_counter() - started,
                         "test_accuracy": float(search.score(X_test, y_test)),
                         "best_params": repr(search.best_params_)}
    result["ratio"] = result["HPMDistiller"]["fit_s"] / result["plain KD"]["fit_s"]
    return result


def run_grid(library, folder):
    """:func:`grid` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.small_data_time", "--grid-worker",
         library, str(folder)], capture_output=True, text=True, check=False,
        cwd=Path(__file__).parent.parent)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def paired(rows, libraries):
    """Per dataset: each library's fit seconds and accuracy against the first's,
    paired by seed."""
    summary = []
    base = libraries[0]
    from .common import rows_by_dataset  # not in the workers: it imports skdistill

    for name, mine in rows_by_dataset(rows).items():
        of = {(r["library"], r["seed"]): r for r in mine}
        seeds = sorted({seed for _, seed in of})
        for library in libraries:
            fit = [of[library, s]["fit_s"] for s in seeds]
            acc = [of[library, s]["test_accuracy"] for s in seeds]
            ratio = [of[library, s]["fit_s"] / of[base, s]["fit_s"] for s in seeds]
            diff = [acc[i] - of[base, s]["test_accuracy"]
                    for i, s in enumerate(seeds)]
            summary.append({
                "dataset": name, "library": library,
                "n_train": of[library, seeds[0]]["n_train"],
                "fit_s_median": float(np.median(fit)),
                "fit_ratio_median": float(np.median(ratio)),
                "accuracy_mean": float(np.mean(acc)),
                "accuracy_std": float(np.std(acc)),
                "accuracy_diff_mean": float(np.mean(diff)),
                "search_fits": [of[library, s]["n_search_fits"] for s in seeds]})
    return summary


def markdown(document):
    lines = ["# Small data, small cost: the default fit at <= 1,000 rows", "",
             f"`{document['command']}`; load average {document['load_before']} "
             f"before, {document['load_after']} after (2 cores shared with other "
             "work: ratios, not seconds, are the result). Libraries: "
             + ", ".join(f"`{lib}`" for lib in document["libraries"])
             + f"; the first is the baseline. Seeds {document['seeds']}.", "",
             "| dataset | training rows | library | fit (s, median) | "
             "fit / baseline (median of seeds) | test accuracy (mean ± std) | "
             "accuracy - baseline (mean) | search fits |",
             "|---|---|---|---|---|---|---|---|"]
    for row in document["summary"]:
        lines.append(
            f"| {row['dataset']} | {row['n_train']} | `{row['library']}` | "
            f"{row['fit_s_median']:.2f} | {row['fit_ratio_median']:.2f} | "
            f"{row['accuracy_mean']:.4f} ± {row['accuracy_std']:.4f} | "
            f"{row['accuracy_diff_mean']:+.4f} | {row['search_fits']} |")
    if document.get("grid"):
        g = document["grid"]
        lines += ["", "README `GridSearchCV` block (4 candidates x 5 folds + refit, "
                  "breast_cancer's 398 training rows, seed 0):", "",
                  "| estimator | grid fit (s) | test accuracy |", "|---|---|---|"]
        for label in ("HPMDistiller", "plain KD"):
            lines.append(f"| {label} | {g[label]['fit_s']:.1f} | "
                         f"{g[label]['test_accuracy']:.4f} |")
        lines.append(f"\nHPMDistiller / plain KD: {g['ratio']:.2f}x.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libraries", nargs="+", default=["."])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS,
                        help="rows sampled from each suite dataset")
    parser.add_argument("--student", choices=["auto", "mlp"], default="auto",
                        help="the default student search, or MLPStudent() named")
    parser.add_argument("--worker", nargs=3, metavar=("LIBRARY", "DATASET", "DIR"))
    parser.add_argument("--grid-worker", nargs=2, metavar=("LIBRARY", "DIR"))
    parser.add_argument("--output", default=str(RESULTS / "small_data_time"))
    args = parser.parse_args(argv)
    if args.worker:
        library, name, folder = args.worker
        print(json.dumps(worker(library, name, args.seeds, Path(folder),
                                args.student)))
        return None
    if args.grid_worker:
        print(json.dumps(grid(args.grid_worker[0], Path(args.grid_worker[1]))))
        return None
    from .common import load_average, log, write_json

    load_before = load_average()
    folder = Path(tempfile.mkdtemp(prefix="small-data-time-"))
    datasets = list(args.datasets)
    if args.grid and "breast_cancer" not in datasets:
        datasets.insert(0, "breast_cancer")
    teacher_s = prepare(datasets, args.seeds, folder, args.max_rows)
    rows = []
    for name in args.datasets:
        for library in args.libraries:
            rows += run_worker(library, name, args.seeds, folder, args.student)
            log(f"{name} {library}: " + ", ".join(
                f"{r['fit_s']:.2f} s acc {r['test_accuracy']:.4f}"
                for r in rows[-len(args.seeds):]))
    command = " ".join(["nice -n 10 python -m benchmarks.small_data_time",
                        *(sys.argv[1:] if argv is None else argv)])
    document = {"command": command, "libraries": args.libraries,
                "seeds": args.seeds, "teacher_fit_s": teacher_s, "rows": rows,
                "summary": paired(rows, args.libraries)}
    output = Path(args.output)
    document["load_before"], document["load_after"] = load_before, load_average()
    write_json(output.with_suffix(".json"), document)  # kept if the grid fails
    if args.grid:
        document["grid"] = run_grid(args.libraries[-1], folder)
        log(f"grid: {document['grid']}")
        document["load_after"] = load_average()
        write_json(output.with_suffix(".json"), document)
    output.with_suffix(".md").write_text(markdown(document))
    print(markdown(document))
    return document


if __name__ == "__main__":
    main()
