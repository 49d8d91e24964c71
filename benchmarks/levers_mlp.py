"""The MLP student's numeric embeddings and distillation losses (issue 14, levers 4, 5).

On hard tabular data (diamonds, hpc_data, email) a small MLP student,
``MLPStudent(hidden_layer_sizes=(16,))`` on each dataset's student
preprocessing (``default_preprocessor("mlp")``), trained

- directly on the hard labels (``alpha=0``), and
- distilled from the suite's three teachers (XGBoost, LightGBM, RandomForest of
  ``benchmarks/suite/fit.py``, 100 trees each): their mean probabilities on the
  training rows, out-of-fold (3 folds), ``temperature=2``, ``alpha=0.7`` (the
  distiller's defaults for a student the user chose),

each with ``numeric_embedding`` None / ``"periodic"`` / ``"piecewise_linear"``,
and the distilled ones with ``distill_loss`` ``"kl"`` and ``"logit_mse"``. An
embedding makes the network larger; the row ``none, wide`` is the MLP without
embedding whose one hidden layer is widened to the parameters of the periodic
one, the same size budget. Protocol: per seed a stratified sample of
``--max-rows`` rows, a stratified 75/25 split (the suite's ``Split``), the test
rows used only to score; one thread.

Run::

    nice -n 10 python -m benchmarks.levers_mlp

Results: ``results/levers_mlp.json`` and ``results/levers_mlp.md``.
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from skdistill import MLPStudent
from skdistill._capacity import mlp_parameters
from skdistill._preprocess import default_preprocessor

from .common import (
    RESULTS,
    accuracies,
    log,
    mean_std,
    pct,
    rows_by_dataset,
    run_seeded,
)
from .datasets import load
from .suite.fit import Split, make_teachers

COMMAND = "nice -n 10 python -m benchmarks.levers_mlp"
DATASETS = ("diamonds", "hpc_data", "email")
HIDDEN = (16,)
TEMPERATURE, ALPHA = 2.0, 0.7
EMBEDDINGS = {"none": None, "periodic": "periodic",
              "piecewise": "piecewise_linear"}
BASELINE = "direct none"


def settings():
    """Name -> (MLPStudent parameters, distilled?), ``none, wide`` sized later."""
    out = {}
    for name, embedding in EMBEDDINGS.items():
        out[f"direct {name}"] = ({"numeric_embedding": embedding}, False)
    out["direct none, wide"] = ({}, False)
    for loss in ("kl", "logit_mse"):
        for name, embedding in EMBEDDINGS.items():
            out[f"{loss} {name}"] = ({"numeric_embedding": embedding,
                                      "distill_loss": loss}, True)
    out["kl none, wide"] = ({}, True)
    return out


def wide_hidden(n_inputs, n_classes):
    """One hidden layer with about the parameters of the periodic student."""
    target = mlp_parameters(n_inputs, HIDDEN, n_classes, "periodic")
    width = max(1, round((target - n_classes) / (n_inputs + 1 + n_classes)))
    return (width,)


def teacher_targets(split, seed):
    """The teachers' mean probabilities, out-of-fold on the training rows, and
    their accuracy on the test rows (fitted on all training rows)."""
    X, y = split.X_train, split.y_train
    oof = np.zeros((len(y), len(np.unique(y))))
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    for train, held in folds.split(X, y):
        for teacher in make_teachers(seed):
            fitted = clone(teacher).fit(X.iloc[train], y[train])
            oof[held] += fitted.predict_proba(X.iloc[held]) / 3
    test = sum(clone(t).fit(X, y).predict_proba(split.X_test)
               for t in make_teachers(seed)) / 3
    return oof, float(np.mean(test.argmax(axis=1) == split.y_test))


def run_seed(name, seed, max_rows):
    """Every setting on one dataset and seed."""
    X, y, _ = load(name, max_rows, random_state=seed)
    split = Split(X, y, seed, latency_rows=1)
    prep = default_preprocessor("mlp", split.X_train).fit(split.X_train)
    Z_train, Z_test = prep.transform(split.X_train), prep.transform(split.X_test)
    soft, teacher_accuracy = teacher_targets(split, seed)
    wide = wide_hidden(Z_train.shape[1], soft.shape[1])
    row = {"dataset": name, "seed": seed, "teachers": teacher_accuracy,
           "n_inputs": int(Z_train.shape[1]), "wide": list(wide)}
    for setting, (params, distilled) in settings().items():
        hidden = wide if setting.endswith("wide") else HIDDEN
        targets = ({"soft_targets": soft, "temperature": TEMPERATURE,
                    "alpha": ALPHA} if distilled else {})
        started = time.perf_counter()
        student = MLPStudent(hidden_layer_sizes=hidden, random_state=seed,
                             **params).fit(Z_train, split.y_train, **targets)
        row[setting] = {"accuracy": float(student.score(Z_test, split.y_test)),
                        "fit_s": time.perf_counter() - started,
                        "n_parameters": int(student.n_parameters_),
                        "n_bytes": int(4 * student.n_parameters_),
                        "n_epochs": student.n_epochs_}
    log(f"{name} seed {seed}: teachers {teacher_accuracy:.4f}, " + ", ".join(
        f"{s} {row[s]['accuracy']:.4f}" for s in settings()))
    return row


def render(document):
    names = list(settings())
    lines = [
        "# The MLP student's numeric embeddings and distillation losses", "",
        "Written by `benchmarks/levers_mlp.py` (its docstring gives the protocol). "
        f"`MLPStudent(hidden_layer_sizes={HIDDEN})`; test accuracy in %, mean ± std "
        f"over seeds {document['seeds']}, {document['max_rows']} rows per dataset; "
        f"differences against `{BASELINE}` (hard labels, no embedding) paired by "
        "seed, in points; parameters (float32 bytes = 4x) and fit time against "
        "it (median ratio over seeds).", "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine load before / after (`uptime`): `{document['uptime_before']}` "
        f"/ `{document['uptime_after']}`", "",
    ]
    for name, mine in rows_by_dataset(document["rows"]).items():

        def acc(setting, mine=mine):
            return accuracies(mine, setting)

        lines += [
            f"## {name}: teachers {pct(mean_std([r['teachers'] for r in mine]))}, "
            f"{mine[0]['n_inputs']} inputs, wide = {tuple(mine[0]['wide'])}", "",
            "| student | accuracy | − direct none | parameters | fit time ratio |",
            "|---|---|---|---|---|",
        ]
        for s in names:
            ratio = np.median([r[s]["fit_s"] / r[BASELINE]["fit_s"] for r in mine])
            params = int(np.median([r[s]["n_parameters"] for r in mine]))
            lines.append(
                f"| {s} | {pct(mean_std(acc(s)))} | "
                f"{pct(mean_std(acc(s) - acc(BASELINE)), signed=True)} | "
                f"{params:,} | {ratio:.2f}x |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=2000, output="levers_mlp",
                      run_seed=run_seed, render=render, results=RESULTS)


if __name__ == "__main__":
    main()
