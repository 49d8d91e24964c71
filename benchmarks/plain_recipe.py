"""The library's default against issue 14's plain recipe, written outside it.

The recipe (issue 14): the teacher labels its own training rows out of fold,
a MUNGE transfer set 16 times the training rows is labelled by the teacher,
and one MLP is trained on both for 800 epochs. It is written here in plain
scikit-learn, numpy and torch (:func:`recipe`), importing nothing from
skdistill, so that it measures what ~100 lines outside the library reach.

The case is the way most people call the library: an ``XGBClassifier`` of 400
trees fitted on the very training rows then given to ``fit`` through
``FrozenEstimator``. The student: an MLP of one hidden layer 100 times smaller
than that teacher in parameters (the suite's compression curve's
``hidden_units``; ``--ratio``), the same width in every row:

- ``teacher``: the XGBoost itself;
- ``lgbm_50x15``: a LightGBM of 50 trees x 15 leaves on the hard labels;
- ``mlp direct``: ``HPMDistiller(student=MLPStudent((w,)), alpha=0,
  augment=None, prefit_teachers="as_is")``, the student on the hard labels;
- ``recipe``: the plain recipe, the same width;
- ``mlp default``: ``HPMDistiller(FrozenEstimator(xgb),
  student=MLPStudent((w,)))`` with every other default;
- ``mlp ratio auto``: the same with ``augment_ratio="auto"`` (the MUNGE ratio,
  4, 16 or 64, chosen on the selection rows);
- ``default``: ``HPMDistiller(FrozenEstimator(xgb))``, the library's own
  choice of student (its size is reported, not fixed).

Gap closed = (accuracy - mlp direct) / (teacher - mlp direct), from the means
over seeds. The recipe is not the library's budget: it trains about 80,000
minibatch steps (the library's network at most 16,000, early-stopped) and fits
five copies of the teacher for its out-of-fold labels (the library does too
when the prefit teacher memorised its rows, ``prefit_teachers="auto"``).

Protocol: per seed a stratified sample of ``--max-rows`` rows, the suite's
75/25 split (``suite.fit.Split``); the test rows are only scored. One thread.

Run::

    nice -n 5 python -m benchmarks.plain_recipe               # 4 datasets x 3 seeds
    python -m benchmarks.plain_recipe --datasets hpc_data --seeds 0

Results: ``results/plain_recipe.json`` (every fit) and ``results/plain_recipe.md``.
"""


import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from skdistill import HPMDistiller, MLPStudent
from skdistill.metrics import model_size

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
from .suite.fit import Split, hidden_units, lgbm_direct, mlp_inputs, warm_up

COMMAND = "nice -n 5 python -m benchmarks.plain_recipe"
DATASETS = ("mlc_churn", "hpc_data", "diamonds", "digits")
RATIO = 100
METHODS = ("teacher", "lgbm_50x15", "mlp direct", "recipe", "mlp default",
           "mlp ratio auto", "default")
RECIPE_RATIO = 16
RECIPE_EPOCHS = 800


def preprocessor():
    """Numbers imputed and standardized, categories one-hot (at most 32 columns
    each, as the library's MLP sees them: the networks have the same inputs)."""
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = OneHotEncoder(handle_unknown="infrequent_if_exist",
                               max_categories=32, sparse_output=False)
    return ColumnTransformer(
        [("numbers", numbers, make_column_selector(dtype_include="number")),
         ("categories", categories, make_column_selector(dtype_exclude="number"))])


def munge(X, n_rows, rng, swap=0.5, spread=1.0):
    """Bucila et al.'s MUNGE: each row moved toward its nearest neighbour.

    For each row and column, with probability ``swap``, a number is drawn
    around the neighbour's value (standard deviation |a - b| / ``spread``) and a
    category takes the neighbour's; ``n_rows`` rows, in as many passes over
    the data as they need.
    """
    Z = preprocessor().fit_transform(X)
    neighbour = NearestNeighbors(n_neighbors=2).fit(Z).kneighbors(
        Z, return_distance=False)[:, 1]
    numbers = X.select_dtypes("number").columns
    passes = []
    for _ in range(int(np.ceil(n_rows / len(X)))):
        made = X.copy()
        other = X.iloc[neighbour].reset_index(drop=True)
        chosen = rng.random(X.shape) < swap
        for j, column in enumerate(X.columns):
            a = X[column].to_numpy()
            b = other[column].to_numpy()
            if column in numbers:
                a = a.astype(float)
                b = b.astype(float)
                moved = rng.normal(b, np.abs(a - b) / spread)
                made[column] = np.where(chosen[:, j], moved, a)
            else:
                made[column] = made[column].where(~chosen[:, j], b)
        passes.append(made)
    return pd.concat(passes, ignore_index=True).iloc[:n_rows]


def train_mlp(Z, targets, width, seed, epochs=RECIPE_EPOCHS, batch_size=256):
    """One hidden layer, Adam at 1e-3, cross-entropy to the soft targets."""
    torch.manual_seed(seed)
    Z = torch.as_tensor(Z, dtype=torch.float32)
    targets = torch.as_tensor(targets, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(Z.shape[1], width), torch.nn.ReLU(),
                              torch.nn.Linear(width, targets.shape[1]))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(Z), generator=generator)
        for start in range(0, len(Z), batch_size):
            rows = order[start:start + batch_size]
            loss = -(targets[rows] * torch.log_softmax(net(Z[rows]), dim=1)).sum(
                dim=1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net


def recipe(teacher, X, y, width, seed):
    """The plain recipe: out-of-fold labels, 16x MUNGE rows, 800 epochs.

    Returns a function from rows to predicted labels.
    """
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(clone(teacher), X, y, cv=folds,
                                    method="predict_proba")
    synthetic = munge(X, RECIPE_RATIO * len(X), np.random.default_rng(seed))
    transfer = pd.concat([X.reset_index(drop=True), synthetic], ignore_index=True)
    targets = np.vstack([out_of_fold, teacher.predict_proba(synthetic)])
    columns = preprocessor().fit(X)
    net = train_mlp(columns.transform(transfer), targets, width, seed,
                    epochs=RECIPE_EPOCHS)
    classes = teacher.classes_

    def predict(rows):
        with torch.no_grad():
            logits = net(torch.as_tensor(columns.transform(rows), dtype=torch.float32))
        return classes[logits.argmax(dim=1).numpy()]

    return predict


def prefit_case(name, seed, max_rows):
    """One dataset and seed as this benchmark sets it up: the suite's split
    of a ``max_rows`` sample, the 400-tree XGBoost fitted on its training rows
    and the seconds that took, and the width of a one-layer network
    :data:`RATIO` times smaller than it in parameters."""
    X, y, _ = load(name, max_rows, random_state=seed)
    y = LabelEncoder().fit_transform(y)
    split = Split(X, y, seed, latency_rows=1)
    teacher, teacher_s = timed(
        lambda: prefit_xgboost(seed, split.X_train, split.y_train))
    width = hidden_units(model_size(teacher).n_parameters / RATIO, mlp_inputs(split),
                         len(np.unique(y)))
    return split, teacher, teacher_s, width


def run_seed(name, seed, max_rows):
    """Every method on one dataset and seed: test accuracy and fit seconds."""
    split, teacher, teacher_s, width = prefit_case(name, seed, max_rows)
    frozen = FrozenEstimator(teacher)

    def distil(student=None, **params):
        return timed(lambda: HPMDistiller(
            frozen, n_jobs=1, random_state=seed,
            **({} if student is None else {"student": student}), **params).fit(
                split.X_train, split.y_train))

    def mlp():
        return MLPStudent(hidden_layer_sizes=(width,), random_state=seed)

    fits = {
        "teacher": ((teacher, teacher.predict), teacher_s),
        "lgbm_50x15": lgbm_direct(split, 50, seed),
        "mlp direct": distil(mlp(), alpha=0.0, augment=None, prefit_teachers="as_is"),
        "recipe": timed(lambda: recipe(teacher, split.X_train, split.y_train,
                                        width, seed)),
        "mlp default": distil(mlp()),
        "mlp ratio auto": distil(mlp(), augment_ratio="auto"),
        "default": distil(),
    }
    row = {"dataset": name, "seed": seed, "n_train": len(split.y_train),
           "width": width, "teacher_parameters": model_size(teacher).n_parameters}
    for method, (model, seconds) in fits.items():
        predict = model[1] if isinstance(model, tuple) else getattr(
            model, "predict", model)
        row[method] = {"accuracy": float(np.mean(predict(split.X_test)
                                                 == split.y_test)),
                       "fit_s": seconds}
    row["default"]["student"] = type(fits["default"][0].student_[-1]).__name__
    log(f"{name} seed {seed} width {width}: " + ", ".join(
        f"{m} {row[m]['accuracy']:.4f} ({row[m]['fit_s']:.1f} s)" for m in METHODS))
    return row


def summarise(rows):
    """Per dataset: accuracies, differences paired by seed, gap closed, times."""
    summary = {}
    for name, mine in rows_by_dataset(rows).items():
        def acc(method, mine=mine):
            return accuracies(mine, method)

        gap = acc("teacher").mean() - acc("mlp direct").mean()
        summary[name] = {
            "width": sorted({r["width"] for r in mine}),
            "accuracy": {m: mean_std(acc(m)) for m in METHODS},
            "gap closed": {m: (float((acc(m).mean() - acc("mlp direct").mean()) / gap)
                               if gap > 0 else None)
                           for m in ("recipe", "mlp default", "mlp ratio auto",
                                     "default")},
            "mlp default - recipe": mean_std(acc("mlp default") - acc("recipe")),
            "mlp ratio auto - recipe": mean_std(acc("mlp ratio auto")
                                                - acc("recipe")),
            "default - recipe": mean_std(acc("default") - acc("recipe")),
            "fit_s": {m: float(np.median([r[m]["fit_s"] for r in mine]))
                      for m in METHODS},
            "default students": [r["default"]["student"] for r in mine],
        }
    return summary


def render(document):
    """The markdown of ``results/plain_recipe.md``."""
    lines = [
        "# The library against issue 14's plain recipe", "",
        "Written by `benchmarks/plain_recipe.py` (its docstring gives the "
        "protocol): a prefit 400-tree XGBoost fitted on the training rows, given "
        f"through `FrozenEstimator`; MLP students of one hidden layer {RATIO}x "
        "smaller than it in parameters. Test accuracy in %, mean ± std over seeds "
        f"{document['seeds']}, {document['max_rows']} rows per dataset (75/25 "
        "split); differences paired by seed, in points; gap closed against `mlp "
        "direct`.", "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine load before / after (`uptime`): `{document['uptime_before']}` "
        f"/ `{document['uptime_after']}`",
        f"- wall time: {document['wall_s'] / 60:.1f} min", "",
        "| dataset | width | " + " | ".join(METHODS) + " |",
        "|---|---|" + "---|" * len(METHODS)]
    for name, s in document["summary"].items():
        lines.append(f"| {name} | {s['width']} | " + " | ".join(
            pct(s["accuracy"][m]) for m in METHODS) + " |")
    lines += ["", "| dataset | gap closed: recipe / mlp default / mlp ratio auto / "
              "default | mlp default − recipe | mlp ratio auto − recipe | default − "
              "recipe | default's students | fit s (median): recipe / mlp default / "
              "mlp ratio auto / default |", "|---|---|---|---|---|---|---|"]
    for name, s in document["summary"].items():
        closed = " / ".join("—" if v is None else f"{100 * v:.0f} %"
                            for v in s["gap closed"].values())
        times = " / ".join(f"{s['fit_s'][m]:.1f}" for m in (
            "recipe", "mlp default", "mlp ratio auto", "default"))
        lines.append(
            f"| {name} | {closed} | {pct(s['mlp default - recipe'], signed=True)} | "
            f"{pct(s['mlp ratio auto - recipe'], signed=True)} | "
            f"{pct(s['default - recipe'], signed=True)} | "
            f"{', '.join(s['default students'])} | {times} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    return run_seeded(argv, description=__doc__.splitlines()[0], command=COMMAND,
                      datasets=DATASETS, max_rows=2000, output="plain_recipe",
                      run_seed=run_seed, render=render, results=RESULTS,
                      before=warm_up, summarise=summarise)


if __name__ == "__main__":
    main()
