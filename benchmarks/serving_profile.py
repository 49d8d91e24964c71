"""Where the compiled student's single-row time goes (issue 17, target (c)).

For each dataset, the suite's default ``HPMDistiller()`` is fitted as
:mod:`benchmarks.serving_speed` fits it (same split, teachers, seed and options;
the fitted distillers can be kept in ``--cache`` for later runs), its student
exported with :func:`skdistill.export.to_onnx`, and one row at a time, on one
thread, in one process, these are timed (``--calls`` calls on distinct rows of
the timing rows, the forms alternating in blocks of 100, garbage collector off):

- ``serving_model``: ``serving_model(distiller, sample).predict_proba`` on a
  one-row DataFrame;
- ``onnx_inputs``: the Python input preparation alone
  (:func:`skdistill.export.onnx_inputs` on the one-row DataFrame);
- ``session.run``: the graph's raw ``InferenceSession.run`` on inputs made
  beforehand (the benchmark's ``student, onnxruntime``);
- ``session.run, no arena``: the same with onnxruntime's CPU memory arena
  off (``SessionOptions.enable_cpu_mem_arena = False``);
- ``empty graph``: a graph with the same inputs whose output is an ``Identity``
  of one of them, run the same way (onnxruntime's fixed cost per call);
- with ``--baseline COMMIT``: ``serving_model (COMMIT)``, the same graph
  behind that commit's ``OnnxServingModel`` and ``feeds`` (their source read
  with ``git show`` and run in this process), so that a change of the Python
  side is measured before and after in one run;
- with ``--baseline-graph COMMIT``: ``session.run (COMMIT graph)``, the graph
  that commit's :func:`~skdistill.export.to_onnx` exports for the same
  distiller (in a subprocess importing the package from ``git archive
  COMMIT``), run like the exported one on the same inputs (the inputs'
  contract is the same), so that a change of the graph is measured before
  and after in one run;
- any ``variants`` (graphs made from the exported one, run like it; for
  callers of :func:`main`).

It also records the graph's node list (by operator), its largest difference
from ``distiller.predict_proba`` on the timing rows (and the baseline graph's),
and onnxruntime's own profile of the session: the median time of each node
over the calls (after onnxruntime's graph optimisations), and of the whole
``Run``.

Run::

    nice -n 5 python -m benchmarks.serving_profile --cache /tmp/distillers \\
        --baseline 3920e7a                                  # all ten datasets
    nice -n 5 python -m benchmarks.serving_profile --cache /tmp/distillers \\
        --baseline-graph d9c2ac4 --output serving_profile_nodes   # the graph
    python -m benchmarks.serving_profile --datasets caravan --calls 200 \\
        --out /tmp/smoke                                     # a smoke run

Results: ``results/serving_profile.json``.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import joblib
import numpy as np

from skdistill.export import onnx_inputs, serving_model, to_onnx

from .common import (
    RESULTS,
    alternating_call_times,
    git,
    library,
    log,
    machine,
    one_thread,
    uptime,
    write_json,
)
from .datasets import DATASETS
from .serving_speed import _ort_session, dataset_split, describe
from .suite.fit import fit_distiller, make_teachers

BLOCK = 100
WARM_UP = 20


def fitted_distiller(name, options):
    """The benchmark's fitted distiller of ``name`` (from the cache when kept)."""
    path = None if options.cache is None else Path(options.cache) / f"{name}.joblib"
    split = dataset_split(name, options.max_rows, options.timing_rows, options.seed)
    if path is not None and path.exists():
        return joblib.load(path), split
    log(f"{name}: fitting HPMDistiller() on {len(split.X_train)} rows")
    distiller, _ = fit_distiller(split, make_teachers(options.seed), {},
                                 options.seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(distiller, path)
    return distiller, split


def empty_graph(model):
    """A model with ``model``'s inputs whose one output is an Identity of one."""
    from onnx import helper

    first = model.graph.input[0]
    output = helper.make_tensor_value_info("out", first.type.tensor_type.elem_type,
                                           [None, None])
    graph = helper.make_graph([helper.make_node("Identity", [first.name], ["out"])],
                              "empty", list(model.graph.input), [output])
    return helper.make_model(graph, opset_imports=list(model.opset_import),
                             ir_version=model.ir_version)


def node_counts(model):
    """The graph's operators and how many nodes of each."""
    return dict(Counter(node.op_type for node in model.graph.node).most_common())


def _module_at(commit, path):
    """The module ``skdistill/_onnx/<path>`` as it was at ``commit``."""
    source = git("show", f"{commit}:skdistill/_onnx/{path}")
    if source is None:
        raise ValueError(f"git show {commit}:skdistill/_onnx/{path} failed")
    name = f"skdistill._onnx._{commit}_{path[:-3].lstrip('_')}"
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_loader(name, loader=None))
    module.__package__ = "skdistill._onnx"
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def baseline_serving(model, commit):
    """``commit``'s ``OnnxServingModel`` of ``model``, with that commit's
    ``feeds`` and ``columns_by_name``."""
    table, serving = _module_at(commit, "_table.py"), _module_at(commit,
                                                                "_serving.py")
    serving.feeds, serving.columns_by_name = table.feeds, table.columns_by_name
    return serving.OnnxServingModel(model)


# Run in the subprocess with the baseline's package first on the path.
_EXPORT_AT = """
import sys, joblib, onnx
from skdistill.export import to_onnx
pipeline, sample = joblib.load(sys.argv[1])
onnx.save_model(to_onnx(pipeline, sample), sys.argv[2])
"""


def baseline_graph(distiller, sample, commit):
    """The graph ``commit``'s ``to_onnx`` exports for ``distiller``."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="baseline-graph-") as folder:
        package = Path(folder) / "package"
        package.mkdir()
        archive = subprocess.run(["git", "archive", commit, "skdistill"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(package)], input=archive,
                       check=True)
        stem = Path(folder) / "student"
        joblib.dump((distiller.student_, sample), f"{stem}.joblib")
        # Run from the archive's folder: the current folder comes first on the path.
        subprocess.run([sys.executable, "-c", _EXPORT_AT, f"{stem}.joblib",
                        f"{stem}.onnx"], check=True, cwd=package,
                       env={**os.environ, "PYTHONPATH": str(package)})
        return onnx.load(f"{stem}.onnx")


def _max_difference(model, X, expected):
    session = _ort_session(model.SerializeToString())
    return float(np.abs(session.run(None, onnx_inputs(model, X))[0]
                        - expected).max())


def _row_calls(model, served, session, X, n_rows, variants, baseline=None):
    """One-row callables of every form, each on its own prepared rows."""
    frames = [X.iloc[i:i + 1] for i in range(n_rows)]
    prepared = [onnx_inputs(model, frame) for frame in frames]
    calls = {
        "serving_model": lambda i: served.predict_proba(frames[i]),
        "onnx_inputs": lambda i: onnx_inputs(model, frames[i]),
        "session.run": lambda i: session.run(None, prepared[i]),
    }
    no_arena = _ort_session(model.SerializeToString(), arena=False)
    calls["session.run, no arena"] = lambda i: no_arena.run(None, prepared[i])
    empty = _ort_session(empty_graph(model).SerializeToString())
    calls["empty graph"] = lambda i: empty.run(None, prepared[i])
    if baseline is not None:
        before = baseline_serving(model, baseline)
        calls[f"serving_model ({baseline})"] = \
            lambda i: before.predict_proba(frames[i])
    for name, variant in variants.items():
        other = _ort_session(variant.SerializeToString())
        calls[name] = (lambda s: lambda i: s.run(None, prepared[i]))(other)
    return calls


def node_profile(model, prepared, folder):
    """onnxruntime's profile: median µs per node, and of the whole run."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(folder) / "ort")
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    for feeds in prepared:
        session.run(None, feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    durations = defaultdict(list)
    for event in events[len(events) // 10:]:  # the first tenth: warm-up
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time"):
            op = event.get("args", {}).get("op_name", "?")
            durations[f"{op} {name[:-len('_kernel_time')]}"].append(event["dur"])
        elif event.get("cat") == "Session" and name == "model_run":
            durations["(model_run)"].append(event["dur"])
    return {name: float(np.median(d)) for name, d in
            sorted(durations.items(), key=lambda item: -np.median(item[1]))}


def profile_dataset(name, options, variants=None):
    """The node list, the forms' one-row times and the node profile of ``name``."""
    distiller, split = fitted_distiller(name, options)
    X = split.X_latency
    sample = split.X_train.iloc[:10]
    model = to_onnx(distiller, sample)
    variants = dict(variants or {})
    if options.baseline_graph is not None:
        before = baseline_graph(distiller, sample, options.baseline_graph)
        variants[f"session.run ({options.baseline_graph} graph)"] = \
            lambda _: before
    made = {key: make(model) for key, make in variants.items()}
    parity_rows = X.iloc[:options.parity_rows]
    expected = distiller.predict_proba(parity_rows)
    served = serving_model(distiller, sample)
    session = _ort_session(model.SerializeToString())
    n_rows = options.calls + WARM_UP
    calls = _row_calls(model, served, session, X, n_rows, made, options.baseline)
    times = alternating_call_times(calls, options.calls, BLOCK, WARM_UP)
    with tempfile.TemporaryDirectory(prefix="serving-profile-") as folder:
        prepared = [onnx_inputs(model, X.iloc[i:i + 1]) for i in range(n_rows)]
        nodes_us = node_profile(model, prepared, folder)
    result = {"student": describe(distiller.student_[-1]),
              "n_nodes": len(model.graph.node), "nodes": node_counts(model),
              "max_abs_diff": _max_difference(model, parity_rows, expected),
              "inputs": {i.name: [d.dim_value or None for d in
                                  i.type.tensor_type.shape.dim]
                         for i in model.graph.input},
              "times": times, "node_profile_us": nodes_us,
              "variants": {key: {"n_nodes": len(v.graph.node),
                                 "nodes": node_counts(v),
                                 "max_abs_diff": _max_difference(
                                     v, parity_rows, expected)}
                           for key, v in made.items()}}
    log(f"{name}: {result['student']}, {result['n_nodes']} nodes ("
        + ", ".join(f"{key} {v['n_nodes']}" for key, v in result["variants"].items())
        + "); " + ", ".join(
        f"{form} {t['p50_s'] * 1e6:.1f}" for form, t in times.items()) + " µs p50")
    return result


def main(argv=None, variants=None):
    """Profile the datasets; write ``results/<output>.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--timing-rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder keeping the fitted distillers between runs")
    parser.add_argument("--baseline", default=None,
                        help="a commit whose serving_model is timed as well")
    parser.add_argument("--baseline-graph", default=None,
                        help="a commit whose exported graph is timed as well")
    parser.add_argument("--parity-rows", type=int, default=2000,
                        help="timing rows the graphs are compared on")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--output", default="serving_profile")
    options = parser.parse_args(argv)
    load_before = uptime()
    with one_thread():
        results = {name: profile_dataset(name, options, variants)
                   for name in options.datasets}
    document = {"options": {k: str(v) if isinstance(v, Path) else v
                            for k, v in vars(options).items()},
                "library": library(), "machine": machine(),
                "load_before": load_before, "load_after": uptime(),
                "datasets": results}
    write_json(Path(options.out) / f"{options.output}.json", document)
    return document


if __name__ == "__main__":
    main()
