"""Prefit teachers fitted on the rows given to ``fit``, or on other rows:
cross-fitted, as they are, or ``prefit_teachers="auto"``?

The way most people call the library: an XGBoost teacher (400 trees) already
fitted on the very training rows then given to ``HPMDistiller.fit``, through
``FrozenEstimator`` ("same rows"). ``prefit_teachers="as_is"`` labels those rows
with the teacher itself, which mostly repeats the hard labels; ``"cross_fit"``
labels them with copies of its unfitted twin fitted on the other folds;
``"auto"`` (the default) makes the copies and keeps their outputs only when the
teacher memorised the rows. The other case: the same teacher fitted on as many
rows that are not given to ``fit`` ("other rows"), where its own outputs are
honest. Beside them, on the same rows: the same student trained on the hard
labels alone (``alpha=0``, "direct") and a LightGBM of 50 trees x 15 leaves
trained directly on all the training rows.

Two fixed students, each in every row: an MLP with one hidden layer of 32 units,
and a LightGBM student of the LightGBM baseline's size (50 trees x 15 leaves,
learning the soft targets); the fit has no synthetic rows and no chain, so that
the rows differ only by their targets.
Protocol: per seed, a stratified sample of twice ``--max-rows`` rows cut in two
stratified halves; the first is split 75/25 (the suite's ``Split``) into the
training rows (given to ``fit``, and the same-rows teacher's) and the test rows
(only scored); the other teacher is fitted on as many rows of the second half.
One thread.

Run::

    nice -n 10 python -m benchmarks.prefit_oof                 # 3 datasets x 3 seeds
    python -m benchmarks.prefit_oof --datasets email --seeds 0

Results: ``results/prefit_oof.json`` (every fit) and ``results/prefit_oof.md``.
"""


import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split

from skdistill import HPMDistiller, LGBMStudent, MLPStudent

from .common import (
    RESULTS,
    accuracies,
    log,
    mean_std,
    pct,
    prefit_xgboost,
    rows_by_dataset,
    run_seeded,
    timed,
)
from .datasets import load
from .suite.fit import Split, lgbm_direct, warm_up

COMMAND = "nice -n 10 python -m benchmarks.prefit_oof"
DATASETS = ("diamonds", "hpc_data", "email")
STUDENTS = {"mlp": lambda seed: MLPStudent(hidden_layer_sizes=(32,)),
            "lgbm": lambda seed: LGBMStudent(n_estimators=50, num_leaves=15,
                                             random_state=seed)}
FIXED = {"augment": None, "chain": False}
MODES = ("as_is", "cross_fit", "auto")
SCENARIOS = ("same rows", "other rows")
# the student alone on the hard labels (its targets are unused)
DIRECT = {"alpha": 0.0, "prefit_teachers": "as_is"}
METHODS = ("teacher (same rows)", "teacher (other rows)", "lgbm_50x15",
           *(f"{student} direct" for student in STUDENTS),
           *(f"{student} {mode} ({scenario})" for student in STUDENTS
             for scenario in SCENARIOS for mode in MODES))


def _halves(name, seed, max_rows):
    """The rows given to ``fit`` (a Split) and the other teacher's rows."""
    X, y, _ = load(name, 2 * max_rows, random_state=seed)
    first, second = train_test_split(np.arange(len(y)), test_size=0.5, stratify=y,
                                     random_state=seed)
    split = Split(X.iloc[first], y[first], seed, latency_rows=1)
    other = second[:len(split.y_train)]
    return split, X.iloc[other], y[other]


def run_seed(name, seed, max_rows):
    """Every method on one dataset and seed: test accuracy, fit seconds and, for
    ``"auto"``, whether the teacher was cross-fitted."""
    split, X_other, y_other = _halves(name, seed, max_rows)
    fits = {"teacher (same rows)": timed(
                lambda: prefit_xgboost(seed, split.X_train, split.y_train)),
            "teacher (other rows)": timed(
                lambda: prefit_xgboost(seed, X_other, y_other)),
            "lgbm_50x15": lgbm_direct(split, 50, seed)}
    teachers = {scenario: FrozenEstimator(fits[f"teacher ({scenario})"][0])
                for scenario in SCENARIOS}

    def distil(teacher, student, params):
        return timed(lambda: HPMDistiller(
            teacher, student=STUDENTS[student](seed), n_jobs=1, random_state=seed,
            **FIXED, **params).fit(split.X_train, split.y_train))

    for student in STUDENTS:
        fits[f"{student} direct"] = distil(teachers["same rows"], student, DIRECT)
        for scenario in SCENARIOS:
            for mode in MODES:
                fits[f"{student} {mode} ({scenario})"] = distil(
                    teachers[scenario], student, {"prefit_teachers": mode})
    row = {"dataset": name, "seed": seed, "n_train": len(split.y_train),
           "n_test": len(split.y_test)}
    for method, (model, seconds) in fits.items():
        row[method] = {"accuracy": float(model.score(split.X_test, split.y_test)),
                       "fit_s": seconds}
        checks = getattr(model, "report_", None) and model.report_.details.get(
            "prefit_checks")
        if checks:
            (check,) = checks.values()
            row[method].update(cross_fitted=check["cross_fitted"],
                               position=check["position"])
    log(f"{name} seed {seed}: " + ", ".join(
        f"{m} {row[m]['accuracy']:.4f}" for m in METHODS))
    return row


def summarise(rows):
    """Per dataset: accuracies, paired differences, choices and fit-time ratios."""
    summary = {}
    for name, mine in rows_by_dataset(rows).items():
        def acc(method, mine=mine):
            return accuracies(mine, method)

        summary[name] = {"accuracy": {m: mean_std(acc(m)) for m in METHODS}}
        for student in STUDENTS:
            for scenario in SCENARIOS:
                def method(mode, student=student, scenario=scenario):
                    return f"{student} {mode} ({scenario})"

                summary[name][f"{student} ({scenario})"] = {
                    **{f"{mode} - direct": mean_std(
                        acc(method(mode)) - acc(f"{student} direct"))
                       for mode in MODES},
                    "auto - as_is": mean_std(acc(method("auto"))
                                             - acc(method("as_is"))),
                    "auto - cross_fit": mean_std(acc(method("auto"))
                                                 - acc(method("cross_fit"))),
                    "auto - lgbm_50x15": mean_std(acc(method("auto"))
                                                  - acc("lgbm_50x15")),
                    "auto cross-fitted": sum(r[method("auto")].get(
                        "cross_fitted", False) for r in mine),
                    "fit_s ratio auto / as_is": float(np.median(
                        [r[method("auto")]["fit_s"] / r[method("as_is")]["fit_s"]
                         for r in mine])),
                }
    return summary


def render(document):
    """The markdown of ``results/prefit_oof.md``."""
    n_seeds = len(document["seeds"])
    lines = [
        "# Prefit teachers: `prefit_teachers=\"auto\"`, `\"cross_fit\"` or "
        "`\"as_is\"`, with a teacher fitted on the same rows or on other rows", "",
        "Written by `benchmarks/prefit_oof.py` (its docstring gives the protocol). "
        "A 400-tree XGBoost teacher fitted on the training rows (same rows) or on "
        "as many other rows, given through `FrozenEstimator`; two fixed students, "
        "`MLPStudent(hidden_layer_sizes=(32,))` and `LGBMStudent(n_estimators=50, "
        "num_leaves=15)`, `augment=None`, `chain=False`; direct = the same "
        "distiller with `alpha=0` (hard labels only); LightGBM 50x15 = "
        "`LGBMClassifier` of 50 trees x 15 leaves on the hard labels. Test "
        f"accuracy in %, mean ± std over seeds {document['seeds']}, "
        f"{document['max_rows']} rows given per dataset (75/25 split); "
        "differences are paired by seed, in points.", "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine load before / after (`uptime`): `{document['uptime_before']}` "
        f"/ `{document['uptime_after']}`",
        f"- wall time: {document['wall_s'] / 60:.1f} min", "",
        "| dataset | XGB (same rows) | XGB (other rows) | LightGBM 50x15 | "
        "MLP direct | LGBM student direct |", "|---|---|---|---|---|---|"]
    for name, s in document["summary"].items():
        lines.append(f"| {name} | " + " | ".join(pct(s["accuracy"][m]) for m in (
            *METHODS[:3], *(f"{student} direct" for student in STUDENTS))) + " |")
    lines += ["", "Differences (points, paired by seed); \"cross-fitted\" counts "
              f"the seeds (of {n_seeds}) where `\"auto\"` cross-fitted the "
              "teacher:", "",
              "| dataset | student | teacher's rows | as_is − direct | cross_fit − "
              "direct | auto − direct | auto − as_is | auto − cross_fit | auto − "
              "LightGBM | cross-fitted | fit time auto / as_is (median) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in document["summary"].items():
        for student in STUDENTS:
            for scenario in SCENARIOS:
                d = s[f"{student} ({scenario})"]
                lines.append(f"| {name} | {student} | {scenario} | " + " | ".join(
                    pct(d[k], signed=True) for k in (
                        "as_is - direct", "cross_fit - direct", "auto - direct",
                        "auto - as_is", "auto - cross_fit", "auto - lgbm_50x15"))
                    + f" | {d['auto cross-fitted']}/{n_seeds} | "
                    f"{d['fit_s ratio auto / as_is']:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=2000, output="prefit_oof",
                      run_seed=run_seed, render=render, results=RESULTS,
                      before=warm_up, summarise=summarise)


if __name__ == "__main__":
    main()
