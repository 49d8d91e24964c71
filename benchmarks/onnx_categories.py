"""Single-row latency of the categorical part of the ONNX graph, before and after.

Issue 17, item 2. On the suite's datasets with category columns (``wa_churn``:
10 category columns, ``credit_data``: 4), a student pipeline as
``HPMDistiller`` builds it (the default preprocessing for the family, then the
student, fitted on the hard labels: the graph's cost does not depend on what the
student learned) is exported twice: by this checkout's :func:`to_onnx` (one
``StringConcat``, one ``LabelEncoder``, one ``OneHot`` whatever the number of
columns) and by the code of ``--baseline`` (a chain of nodes per category
column), the latter in a subprocess that imports the package from
``git archive <baseline>``. Both graphs then run in this process, by onnxruntime
on one thread, on the same inputs made beforehand (:func:`onnx_inputs`):

- one row: ``--calls`` calls on distinct rows, p50 and p99; the two graphs
  alternate in blocks of 100 calls, so that a change of the machine's load
  touches both;
- 10,000 rows (drawn with replacement): best of 5, alternating.

Families: ``linear`` (one-hot block) and ``tree`` (ordinal codes). The figures
are the new graph's time over the old one's, with the node counts and each
graph's largest difference from ``predict_proba``.

Run: ``nice -n 10 python -m benchmarks.onnx_categories`` (about a minute);
writes ``benchmarks/results/onnx_categories.json``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import joblib
import numpy as np
import onnx
import onnxruntime as ort
from sklearn.pipeline import Pipeline

from skdistill import LinearStudent, TreeStudent
from skdistill._preprocess import default_preprocessor
from skdistill.export import onnx_inputs, to_onnx

from .common import (
    RESULTS,
    alternating_call_times,
    git,
    load_average,
    one_thread,
    write_json,
)
from .datasets import load

DATASETS = ("wa_churn", "credit_data")
FAMILIES = {"linear": lambda: LinearStudent(),
            "tree": lambda: TreeStudent(max_depth=6, random_state=0)}
BLOCK = 100
# Run in the subprocess with the baseline's package first on the path.
_EXPORT_OLD = """
import sys, joblib, onnx
from skdistill.export import to_onnx
for stem in sys.argv[1:]:
    pipeline, sample = joblib.load(stem + ".joblib")
    onnx.save_model(to_onnx(pipeline, sample), stem + ".onnx")
"""


def student_pipeline(family, X, y):
    """The default preprocessing for ``family`` and the student, fitted."""
    preprocessor = default_preprocessor(family, X).fit(X)
    student = FAMILIES[family]().fit(preprocessor.transform(X), y)
    return Pipeline([("preprocess", preprocessor), ("student", student)])


def baseline_models(pipelines, commit, folder):
    """The baseline's graphs of ``pipelines`` (name -> (pipeline, sample))."""
    package = Path(folder) / "baseline"
    package.mkdir()
    archive = subprocess.run(["git", "archive", commit, "skdistill"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
    stems = []
    for name, content in pipelines.items():
        stem = str(Path(folder) / name)
        joblib.dump(content, stem + ".joblib")
        stems.append(stem)
    # Run from the archive's folder: the current folder comes first on the path.
    subprocess.run([sys.executable, "-c", _EXPORT_OLD, *stems], check=True,
                   cwd=package, env={**os.environ, "PYTHONPATH": str(package)})
    return {name: onnx.load(stem + ".onnx")
            for name, stem in zip(pipelines, stems, strict=True)}


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _run_row(run, rows, i):
    """One session run on the ``i``-th one-row input."""
    return run(None, rows[i])


def batch(sessions, feed, repeats=5):
    best = {name: np.inf for name in sessions}
    for _ in range(repeats):
        for name, run in sessions.items():
            begin = time.perf_counter()
            run(None, feed)
            best[name] = min(best[name], time.perf_counter() - begin)
    return {name: float(value) for name, value in best.items()}


def measure(old, new, pipeline, X, n_calls):
    """Both graphs' figures on rows drawn from ``X``."""
    rows = X.sample(n=max(n_calls, 10_000), replace=True, random_state=0)
    feed = onnx_inputs(new, rows)
    one_row = [{key: value[i:i + 1] for key, value in feed.items()}
               for i in range(n_calls)]
    sessions = {"old": session(old).run, "new": session(new).run}
    proba = pipeline.predict_proba(rows)
    figures = {
        "nodes": {"old": len(old.graph.node), "new": len(new.graph.node)},
        "max_abs_diff_vs_predict_proba": {
            key: float(np.abs(run(None, feed)[0] - proba).max())
            for key, run in sessions.items()},
        "one_row": alternating_call_times(
            {key: partial(_run_row, run, one_row) for key, run in sessions.items()},
            n_calls, BLOCK),
        "batch_10k_s": batch(sessions, feed),
    }
    figures["p50_ratio_new_over_old"] = (figures["one_row"]["new"]["p50_s"]
                                         / figures["one_row"]["old"]["p50_s"])
    figures["batch_ratio_new_over_old"] = (figures["batch_10k_s"]["new"]
                                           / figures["batch_10k_s"]["old"])
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="9cc0d04",
                        help="the commit whose to_onnx makes the old graphs")
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--max-rows", type=int, default=3_000)
    parser.add_argument("--output", type=Path,
                        default=RESULTS / "onnx_categories.json")
    args = parser.parse_args(argv)
    results = {"baseline": args.baseline, "commit": git("rev-parse", "--short",
                                                        "HEAD"),
               "load_before": load_average(), "threads": 1,
               "onnxruntime": ort.__version__, "figures": {}}
    with one_thread(), tempfile.TemporaryDirectory() as folder:
        data, pipelines = {}, {}
        for dataset in DATASETS:
            X, y, _ = load(dataset, max_rows=args.max_rows, random_state=0)
            data[dataset] = X
            for family in FAMILIES:
                pipelines[f"{dataset}-{family}"] = (
                    student_pipeline(family, X, y), X[:5])
        old = baseline_models(pipelines, args.baseline, folder)
        for key, (pipeline, sample) in pipelines.items():
            results["figures"][key] = measure(
                old[key], to_onnx(pipeline, sample), pipeline,
                data[key.split("-")[0]], args.calls)
    results["load_after"] = load_average()
    write_json(args.output, results)
    print(f"load before: {results['load_before']}; after: {results['load_after']}")
    for key, fig in results["figures"].items():
        rows = fig["one_row"]
        print(f"{key:20s} nodes {fig['nodes']['old']:4d} -> {fig['nodes']['new']:3d}"
              f" | one-row p50 {rows['old']['p50_s'] * 1e6:6.1f} -> "
              f"{rows['new']['p50_s'] * 1e6:5.1f} us "
              f"({fig['p50_ratio_new_over_old']:.2f}x)"
              f", p99 {rows['old']['p99_s'] * 1e6:6.1f} -> "
              f"{rows['new']['p99_s'] * 1e6:5.1f} us | 10k rows "
              f"{fig['batch_10k_s']['old'] * 1e3:6.2f} -> "
              f"{fig['batch_10k_s']['new'] * 1e3:6.2f} ms "
              f"({fig['batch_ratio_new_over_old']:.2f}x) | max diff "
              f"{fig['max_abs_diff_vs_predict_proba']['old']:.1e} / "
              f"{fig['max_abs_diff_vs_predict_proba']['new']:.1e}")
    return results


if __name__ == "__main__":
    main()
