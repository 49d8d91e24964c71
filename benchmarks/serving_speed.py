"""The honest speed table: the student against the teachers, compiled or not.

Issue 17, item 4. For every suite dataset (:data:`benchmarks.datasets.DATASETS`),
in one process and on one thread everywhere (torch, BLAS/OpenMP, the boosters'
``n_jobs=1``, onnxruntime's intra- and inter-op pools, lleaves' ``n_jobs=1``):

Data
    The suite's split (``benchmarks.suite.fit.Split``): a stratified 75/25
    train/test split of the dataset, loaded as a stratified sample of
    ``--max-rows / 0.75`` rows (so at most ``--max-rows`` training rows, 10,000 by
    default; smaller datasets whole); the ``--timing-rows`` (10,000) timing rows
    are drawn with replacement from the test rows, as the suite draws them.
Models
    The suite's default row: ``HPMDistiller()`` with its defaults (student
    ``"auto"``, ``search_budget=12``) and ``random_state``/``n_jobs=1``, given
    the suite's three unfitted teachers (``benchmarks.suite.fit.make_teachers``:
    XGBoost, LightGBM, and an ordinal-encoded RandomForest, 100 trees each,
    native categories for the boosters), which it fits and cross-fits itself.
Forms timed
    teachers:
      - ``teachers (fused), Python``: ``distiller.teacher_proba`` (the three
        teachers and the attention fusion), **the baseline of every ratio**;
      - each teacher's own ``predict_proba`` on the DataFrame (``Python``);
      - each teacher compiled: XGBoost and LightGBM through ``onnxmltools`` and
        the forest through ``skl2onnx``, run by onnxruntime; LightGBM through
        ``lleaves`` (LLVM);
      - ``teachers, fastest forms``: the three teachers one after the other,
        each in its fastest form (chosen apart for 10k rows and one row): a
        compiled one, or its native predict where that is faster (a deep
        forest's ONNX graph can be slower on 10k rows than scikit-learn) or
        nothing could be compiled; timed as one call. This is the issue's
        "teachers' best compiled form". The fusion is left out: both choices
        favour the teachers.
    student:
      - ``student, Python``: ``distiller.student_.predict_proba`` on the
        DataFrame (preprocessing included);
      - ``student, serving_model``: ``skdistill.export.serving_model(distiller)``
        on the DataFrame (the ONNX graph behind ``predict_proba``);
      - ``student, onnxruntime``: the same graph's raw ``InferenceSession.run``;
      - ``student, lleaves`` (a tree student only): ``serving_model(distiller,
        engine="lleaves")``'s ``run_trees``, the trees compiled by lleaves,
        on the rows its ``tree_rows`` makes;
      - ``student, llvm`` (a dense student only): ``serving_model(distiller,
        engine="llvm")``'s ``run_compiled``, the graph after the category
        strings' lookup compiled through llvmlite, on the rows its
        ``compiled_rows`` makes.
Inputs
    The Python forms and ``serving_model`` take the DataFrame, as a user calls
    them. The raw sessions and lleaves take arrays made before the clock starts:
    the boosters' category codes (pandas' codes, the ones XGBoost and LightGBM
    use; missing as NaN), the forest's fitted ``OrdinalEncoder`` output, the
    student's :func:`skdistill.export.onnx_inputs`, and the student's
    ``tree_rows`` or ``compiled_rows`` (its numeric columns and category codes,
    or the values looked up for them) for its compiled forms. Single rows are
    sliced
    (DataFrame or array) before the clock starts.
Figures
    10,000 rows: best of ``--repeats`` calls, the forms alternating within each
    repeat (the teachers' fastest forms picked by one call each beforehand,
    their chain alternating with the rest); single rows: ``--calls`` (1,000)
    calls on distinct rows, one form after the other (after 20 untimed calls),
    p50 and p99, except that a form
    whose median warm-up call says 1,000 calls would take over ``--row-budget``
    (10 s) makes fewer, ``--min-calls`` (200) at least (the slow Python forms of
    the teachers: this keeps the full run near 20 minutes on 2 cores); the
    count is in each form's ``n_calls``. The garbage collector is off
    while a form is timed. Sizes on disk: ``joblib.dump`` of each Python model,
    the ONNX bytes, the lleaves object file. Each form's ``max_abs_diff`` is its
    largest difference from the Python model it compiles, on the timing rows.
    Every time and size is also given as a ratio to the baseline of the same
    dataset and run (``speedup``: baseline time / form time; ``compression``:
    the three teachers' pickles / the form's artifact).

Run::

    nice -n 5 python -m benchmarks.serving_speed            # all ten datasets
    python -m benchmarks.serving_speed --datasets wa_churn --max-rows 500 \\
        --timing-rows 1000 --calls 200 --out /tmp/smoke      # a smoke run

Results: ``results/serving_speed.json`` (every figure) and
``results/serving_speed.md`` (the tables and where the issue's targets stand).
"""

import argparse
import gc
import math
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from skdistill.export import onnx_inputs, serving_model, to_onnx

from .common import (
    RESULTS,
    best_call_times,
    git,
    library,
    load_average,
    log,
    machine,
    one_thread,
    uptime,
    write_json,
)
from .datasets import DATASETS, load
from .suite.config import TEST_SIZE
from .suite.fit import Split, fit_distiller, make_teachers

BASELINE = "teachers (fused), Python"
TEACHERS_BEST = "teachers, fastest forms"
STUDENT_LLEAVES = "student, lleaves"
STUDENT_LLVM = "student, llvm"
STUDENT_FORMS = ("student, Python", "student, serving_model", "student, onnxruntime",
                 STUDENT_LLEAVES, STUDENT_LLVM)
# The student's compiled forms; lleaves only for a tree student, llvm only for
# a dense one.
STUDENT_COMPILED_FORMS = ("student, onnxruntime", STUDENT_LLEAVES,
                          STUDENT_LLVM)
STUDENT_ONNX = "student, onnxruntime"
TEACHER_NAMES = ("XGBoost", "LightGBM", "RandomForest")
# Compiled forms of each teacher: form name -> builder (below).
COMPILED = {
    "XGBoost": ("XGBoost, onnxruntime (onnxmltools)",),
    "LightGBM": ("LightGBM, onnxruntime (onnxmltools)", "LightGBM, lleaves"),
    "RandomForest": ("RandomForest, onnxruntime (skl2onnx)",),
}
# The targets.
SPEEDUP_VS_NATIVE = 20.0
SPEEDUP_VS_COMPILED = 5.0
DATASETS_VS_COMPILED = 8
P50_LIMIT_S = 50e-6
COLUMNS = ("side", "input", "batch_s", "p50_s", "p99_s", "n_calls", "n_bytes",
           "max_abs_diff", "batch_speedup", "p50_speedup", "p99_speedup", "compression")
ONNXMLTOOLS_OPSET = 15  # the highest onnxmltools 1.16 converts to


class Form:
    """One way of serving a model: a batch call, its single-row calls, its artifact.

    Parameters
    ----------
    name : str
    side : {"teachers", "student"}
    predict : callable
        Probabilities of an input made by ``make_input``.
    make_input : callable
        Rows of a DataFrame -> what ``predict`` takes (called before the clock).
    input : str
        What ``predict`` is fed, in words.
    n_bytes : int or None
        Size on disk of its artifact.
    reference : callable or None
        The Python model it compiles, on a DataFrame (for ``max_abs_diff``).
    """

    def __init__(self, name, side, predict, make_input, input, n_bytes,
                 reference=None):
        self.name, self.side, self.predict = name, side, predict
        self.make_input, self.input, self.n_bytes = make_input, input, n_bytes
        self.reference = reference


# --- the data and the models -------------------------------------------------

def dataset_split(name, max_rows, timing_rows, seed):
    """The suite's split of ``name``, with at most ``max_rows`` training rows."""
    X, y, _ = load(name, max_rows=math.ceil(max_rows / (1 - TEST_SIZE)),
                   random_state=seed)
    return Split(X, y, seed, timing_rows)


def category_codes(X):
    """The boosters' view of a DataFrame: pandas' category codes, NaN when missing."""
    columns = {}
    for column, values in X.items():
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
            columns[column] = codes
        else:
            columns[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.column_stack([columns[column] for column in X.columns])


def _pickled_bytes(model, folder, name):
    path = Path(folder) / f"{name}.joblib"
    joblib.dump(model, path)
    return path.stat().st_size


def _ort_session(model_bytes, arena=True):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = arena
    options.log_severity_level = 3  # not the converters' shape warnings per call
    return ort.InferenceSession(model_bytes, options,
                                providers=["CPUExecutionProvider"])


def _probabilities(outputs, n_classes):
    """The probability matrix among a tree converter's outputs."""
    for output in outputs:
        array = np.asarray(output) if not isinstance(output, list) else None
        if array is None or array.dtype.kind != "f":
            continue
        if array.ndim == 2 and array.shape[1] == n_classes:
            return array
        if n_classes == 2 and (array.ndim == 1 or array.shape[1] == 1):
            positive = array.reshape(-1)
            return np.column_stack([1 - positive, positive])
    raise ValueError("no probability output of the expected width")


def _session_form(name, model, input_name, make_input, input, n_classes,
                  reference):
    data = model.SerializeToString()
    session = _ort_session(data)
    return Form(name, "teachers",
                lambda rows: _probabilities(session.run(None, {input_name: rows}),
                                            n_classes),
                make_input, input, len(data), reference)


def _xgboost_onnx(teacher, n_classes, folder, sample):
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = teacher.get_booster().copy()
    n_features = booster.num_features()
    # onnxmltools reads features by the names f0, f1, ...; the types stay
    booster.feature_names = [f"f{i}" for i in range(n_features)]
    model = convert_xgboost(
        booster, initial_types=[("input", FloatTensorType([None, n_features]))],
        target_opset=ONNXMLTOOLS_OPSET)
    return _session_form(
        "XGBoost, onnxruntime (onnxmltools)", model, "input",
        lambda X: category_codes(X).astype(np.float32),
        "float32 category codes", n_classes, teacher.predict_proba)


def _lightgbm_onnx(teacher, n_classes, folder, sample):
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    n_features = teacher.n_features_in_
    model = convert_lightgbm(
        teacher, initial_types=[("input", FloatTensorType([None, n_features]))],
        zipmap=False, target_opset=ONNXMLTOOLS_OPSET)
    return _session_form(
        "LightGBM, onnxruntime (onnxmltools)", model, "input",
        lambda X: category_codes(X).astype(np.float32),
        "float32 category codes", n_classes, teacher.predict_proba)


def _lightgbm_lleaves(teacher, n_classes, folder, sample):
    import lleaves

    text, library_file = Path(folder) / "lightgbm.txt", Path(folder) / "lleaves.so"
    teacher.booster_.save_model(text)
    model = lleaves.Model(model_file=str(text))
    start = time.perf_counter()
    model.compile(cache=str(library_file))
    log(f"    lleaves compiled in {time.perf_counter() - start:.1f} s")

    def predict(rows):
        proba = model.predict(rows, n_jobs=1)
        return proba if proba.ndim == 2 else np.column_stack([1 - proba, proba])

    return Form("LightGBM, lleaves", "teachers", predict, category_codes,
                "float64 category codes", library_file.stat().st_size,
                teacher.predict_proba)


def _forest_onnx(teacher, n_classes, folder, sample):
    from skl2onnx import to_onnx as skl2onnx_to_onnx

    encoder, forest = teacher[:-1], teacher[-1]
    codes = np.asarray(encoder.transform(sample), dtype=np.float32)
    model = skl2onnx_to_onnx(forest, codes, options={id(forest): {"zipmap": False}})
    return _session_form(
        "RandomForest, onnxruntime (skl2onnx)", model,
        model.graph.input[0].name,
        lambda X: np.asarray(encoder.transform(X), dtype=np.float32),
        "float32 ordinal codes (the pipeline's fitted encoder)", n_classes,
        teacher.predict_proba)


BUILDERS = {
    "XGBoost, onnxruntime (onnxmltools)": _xgboost_onnx,
    "LightGBM, onnxruntime (onnxmltools)": _lightgbm_onnx,
    "LightGBM, lleaves": _lightgbm_lleaves,
    "RandomForest, onnxruntime (skl2onnx)": _forest_onnx,
}


def build_forms(distiller, split, folder, skip=()):
    """Every form of one fitted distiller; the compiled forms that failed.

    Returns
    -------
    forms : dict of str to Form
    not_built : dict of str to str
        Form name -> why it could not be built.
    """
    n_classes = len(distiller.classes_)
    sample = split.X_train.iloc[:10]
    teachers = dict(zip(TEACHER_NAMES, distiller.teachers_, strict=True))
    pickles = {name: _pickled_bytes(teacher, folder, name)
               for name, teacher in teachers.items()}
    as_is = _as_is
    forms = {BASELINE: Form(BASELINE, "teachers", distiller.teacher_proba, as_is,
                            "DataFrame", sum(pickles.values()))}
    for name, teacher in teachers.items():
        forms[f"{name}, Python"] = Form(f"{name}, Python", "teachers",
                                        teacher.predict_proba, as_is, "DataFrame",
                                        pickles[name])
    not_built = {}
    for name, teacher in teachers.items():
        for form_name in COMPILED[name]:
            if form_name in skip:
                not_built[form_name] = "skipped (--skip)"
                continue
            log(f"    building {form_name}")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    forms[form_name] = BUILDERS[form_name](teacher, n_classes,
                                                           folder, sample)
            except Exception as error:  # recorded, the run goes on
                not_built[form_name] = f"{type(error).__name__}: {error}".strip() \
                    .splitlines()[0][:300]
                log(f"    not built: {not_built[form_name]}")
    student = distiller.student_
    model = to_onnx(distiller, sample)
    served = serving_model(distiller, sample)
    session = _ort_session(model.SerializeToString())
    forms["student, Python"] = Form(
        "student, Python", "student", student.predict_proba, as_is, "DataFrame",
        _pickled_bytes(student, folder, "student"))
    forms["student, serving_model"] = Form(
        "student, serving_model", "student", served.predict_proba, as_is,
        "DataFrame", model.ByteSize(), student.predict_proba)
    forms["student, onnxruntime"] = Form(
        "student, onnxruntime", "student",
        lambda feeds: session.run(None, feeds)[0],
        lambda X: onnx_inputs(model, X),
        "skdistill.export.onnx_inputs (float64; category strings)",
        model.ByteSize(), student.predict_proba)
    for engine in ("lleaves", "llvm"):
        _add_compiled_student(forms, not_built, distiller, sample, engine)
    return forms, not_built


def _add_compiled_student(forms, not_built, distiller, sample, engine):
    """``student, lleaves`` (a tree student's trees compiled by lleaves) or
    ``student, llvm`` (a dense student's graph compiled through llvmlite):
    ``serving_model(engine=engine)``, fed the rows its compiled code reads
    (numeric columns and category codes, made before the clock as the
    teachers' category codes are)."""
    name = f"student, {engine}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            served = serving_model(distiller, sample, engine=engine)
            log(f"    student compiled ({engine}) in "
                f"{time.perf_counter() - start:.1f} s")
    except (ValueError, ImportError) as error:  # another family; not installed
        not_built[name] = f"{type(error).__name__}: {error}"[:300]
        return
    if engine == "lleaves":
        forms[name] = Form(
            name, "student", served.run_trees, served.tree_rows,
            "LleavesServingModel.tree_rows (float64 numeric columns and category "
            "codes)", len(served.object_code), distiller.student_.predict_proba)
    else:
        forms[name] = Form(
            name, "student", served.run_compiled, served.compiled_rows,
            "LlvmServingModel.compiled_rows (float64 numeric columns and the "
            "values looked up for the categories)", len(served.model_bytes),
            distiller.student_.predict_proba)


def _as_is(X):
    return X


# --- timing ------------------------------------------------------------------

def _rows(prepared, i):
    """Row ``i`` of a prepared input (a DataFrame, an array or a dict of them)."""
    if isinstance(prepared, dict):
        return {key: value[i:i + 1] for key, value in prepared.items()}
    if hasattr(prepared, "iloc"):
        return prepared.iloc[i:i + 1]
    return prepared[i:i + 1]


class Timed:
    """A form's callables on prepared inputs: the batch and the single rows."""

    def __init__(self, form, X, n_calls):
        self.form = form
        self.batch = form.make_input(X)
        self.singles = [_rows(self.batch, i) for i in range(n_calls + 20)]

    def call_batch(self):
        return self.form.predict(self.batch)

    def call_row(self, i):
        return self.form.predict(self.singles[i])


class Chain:
    """Several timed forms called one after the other, as one form."""

    def __init__(self, parts):
        self.parts = parts

    def call_batch(self):
        return [part.call_batch() for part in self.parts]

    def call_row(self, i):
        return [part.call_row(i) for part in self.parts]


def time_batches(timed, repeats):
    """Best wall time of each ``call_batch``, the forms alternating per repeat."""
    return best_call_times({name: item.call_batch for name, item in timed.items()},
                           repeats)


def time_rows(item, n_calls, budget_s=None, min_calls=None):
    """p50, p99 and count of single-row calls (after 20 untimed ones).

    ``n_calls`` calls, or fewer (``min_calls`` at least) where the form's
    median warm-up call says that ``n_calls`` would take over ``budget_s``.
    """
    warm_up = np.empty(20)
    for i in range(20):
        start = time.perf_counter()
        item.call_row(n_calls + i)
        warm_up[i] = time.perf_counter() - start
    if budget_s is not None:
        affordable = int(budget_s / max(np.median(warm_up), 1e-9))
        n_calls = min(n_calls, max(min_calls or 1, affordable))
    times = np.empty(n_calls)
    gc.collect()
    gc.disable()
    try:
        for i in range(n_calls):
            start = time.perf_counter()
            item.call_row(i)
            times[i] = time.perf_counter() - start
    finally:
        gc.enable()
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), n_calls


# --- one dataset -------------------------------------------------------------

def run_dataset(name, options):
    """Fit, build every form, time them; the dataset's figures."""
    load_before = uptime()
    split = dataset_split(name, options.max_rows, options.timing_rows, options.seed)
    log(f"{name}: {len(split.X_train)} training rows, fitting HPMDistiller()")
    distiller, fit_s = fit_distiller(split, make_teachers(options.seed), {},
                                     options.seed)
    X = split.X_latency
    with tempfile.TemporaryDirectory(prefix="serving-speed-") as folder:
        forms, not_built = build_forms(distiller, split, folder, options.skip)
        timed = {form_name: Timed(form, X, options.calls)
                 for form_name, form in forms.items()}
        parity = {form_name: _max_abs_diff(form, timed[form_name], X)
                  for form_name, form in forms.items()}
        log(f"    timing {len(timed)} forms on {len(X)} rows")
        budget = {"n_calls": options.calls, "budget_s": options.row_budget,
                  "min_calls": options.min_calls}
        for item in timed.values():  # warm up: first calls load and allocate
            item.call_batch()
        # a first pass picks each teacher's fastest forms; then every form and
        # their chain alternate in the same repeats, so that the chain and the
        # baseline see the same machine
        rows = {form_name: time_rows(item, **budget)
                for form_name, item in timed.items()}
        best_batch, best_row = _teachers_best(
            forms, time_batches(timed, 1), rows)
        chain = Chain([timed[f] for f in best_batch])
        batch = time_batches({**timed, TEACHERS_BEST: chain}, options.repeats)
        rows[TEACHERS_BEST] = time_rows(Chain([timed[f] for f in best_row]),
                                        **budget)
    figures = {}
    for form_name, form in forms.items():
        figures[form_name] = {
            "side": form.side, "input": form.input, "batch_s": batch[form_name],
            "p50_s": rows[form_name][0], "p99_s": rows[form_name][1],
            "n_calls": rows[form_name][2], "n_bytes": form.n_bytes,
            "max_abs_diff": parity[form_name]}
    figures[TEACHERS_BEST] = {
        "side": "teachers",
        "input": "10k rows: " + " + ".join(best_batch) + "; one row: "
                 + " + ".join(best_row),
        "batch_s": batch[TEACHERS_BEST], "p50_s": rows[TEACHERS_BEST][0],
        "p99_s": rows[TEACHERS_BEST][1], "n_calls": rows[TEACHERS_BEST][2],
        "n_bytes": sum(forms[f].n_bytes for f in best_batch),
        "max_abs_diff": max(parity[f] or 0.0 for f in best_batch)}
    add_ratios(figures)
    result = {
        "rows": {"train": len(split.X_train), "test": len(split.X_test),
                 "timing": len(X)},
        "n_classes": len(distiller.classes_),
        "student": describe(distiller.student_[-1]),
        "fit_s": fit_s,
        "accuracy": _accuracies(distiller, split),
        "teachers_best_parts": {"batch": best_batch, "row": best_row},
        "not_built": not_built,
        "forms": figures,
        "load_before": load_before, "load_after": uptime(),
    }
    result["targets"] = dataset_targets(figures)
    return result


def describe(student):
    """The student's family and size, e.g. ``LGBMStudent(n_estimators=100)``."""
    params = student.get_params()
    shown = [f"{key}={params[key]!r}" for key in
             ("hidden_layer_sizes", "max_depth", "n_estimators", "num_leaves")
             if key in params and not (key == "max_depth" and params[key] in
                                       (None, -1) and "n_estimators" in params)]
    return f"{type(student).__name__}({', '.join(shown)})"


def _max_abs_diff(form, item, X):
    if form.reference is None:
        return None
    return float(np.abs(np.asarray(item.call_batch()) - form.reference(X)).max())


def _teachers_best(forms, batch, rows):
    """Per teacher, its fastest form: compiled, or native where that is faster."""
    best_batch, best_row = [], []
    for name in TEACHER_NAMES:
        built = [f for f in (f"{name}, Python", *COMPILED[name]) if f in forms]
        best_batch.append(min(built, key=lambda f: batch[f]))
        best_row.append(min(built, key=lambda f: rows[f][0]))
    return best_batch, best_row


def _accuracies(distiller, split):
    teachers = distiller.classes_[distiller.teacher_proba(split.X_test).argmax(1)]
    student = distiller.predict(split.X_test)
    return {"teachers": float(np.mean(teachers == split.y_test)),
            "student": float(np.mean(student == split.y_test)),
            "fidelity": float(np.mean(student == teachers))}


def add_ratios(figures):
    """Every time and size of ``figures`` as a ratio to the baseline's."""
    base = figures[BASELINE]
    for fig in figures.values():
        fig["batch_speedup"] = base["batch_s"] / fig["batch_s"]
        fig["p50_speedup"] = base["p50_s"] / fig["p50_s"]
        fig["p99_speedup"] = base["p99_s"] / fig["p99_s"]
        fig["compression"] = base["n_bytes"] / fig["n_bytes"]


def _best(figures, names, key):
    return min(names, key=lambda name: figures[name][key])


def dataset_targets(figures):
    """Where one dataset stands on the issue's targets."""
    forms = [name for name in STUDENT_FORMS if name in figures]
    student_batch = _best(figures, forms, "batch_s")
    student_row = _best(figures, forms, "p50_s")
    base, compiled = figures[BASELINE], figures[TEACHERS_BEST]
    vs_native = {"batch": base["batch_s"] / figures[student_batch]["batch_s"],
                 "row": base["p50_s"] / figures[student_row]["p50_s"]}
    vs_compiled = {"batch": compiled["batch_s"] / figures[student_batch]["batch_s"],
                   "row": compiled["p50_s"] / figures[student_row]["p50_s"]}
    p50 = min(figures[name]["p50_s"] for name in STUDENT_COMPILED_FORMS
              if name in figures)
    return {
        "student_best": {"batch": student_batch, "row": student_row},
        "vs_native": vs_native,
        "vs_native_met": min(vs_native.values()) >= SPEEDUP_VS_NATIVE,
        "vs_compiled": vs_compiled,
        "vs_compiled_met": min(vs_compiled.values()) >= SPEEDUP_VS_COMPILED,
        "compiled_student_p50_s": p50,
        "p50_met": p50 <= P50_LIMIT_S,
    }


def summary(results):
    """The issue's three speed targets over the datasets."""
    targets = {name: result["targets"] for name, result in results.items()}
    vs_compiled = [name for name, t in targets.items() if t["vs_compiled_met"]]
    return {
        "vs_native_every_dataset": all(t["vs_native_met"] for t in targets.values()),
        "vs_native_datasets": [n for n, t in targets.items() if t["vs_native_met"]],
        "vs_compiled_datasets": vs_compiled,
        "vs_compiled_met": len(vs_compiled) >= min(DATASETS_VS_COMPILED,
                                                   len(targets)),
        "p50_every_dataset": all(t["p50_met"] for t in targets.values()),
        "p50_datasets": [n for n, t in targets.items() if t["p50_met"]],
        "n_datasets": len(targets),
    }


# --- the report ----------------------------------------------------------------

def _ms(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds >= 0.01 else \
        f"{seconds * 1e3:.2f} ms"


def _us(seconds):
    return f"{seconds * 1e6:,.0f} µs" if seconds >= 1e-4 else \
        f"{seconds * 1e6:.1f} µs"


def _x(ratio):
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.1f}x" if ratio >= 1 \
        else f"{ratio:.2f}x"


def _size(n_bytes):
    return f"{n_bytes / 1e6:.2f} MB" if n_bytes >= 1e5 else f"{n_bytes / 1e3:.1f} kB"


def _yes(flag):
    return "yes" if flag else "**no**"


def render(document):
    """The markdown of ``results/serving_speed.md``."""
    results, options = document["datasets"], document["options"]
    lines = [
        "# Serving speed: the student against the teachers, compiled or not",
        "",
        "Written by `benchmarks/serving_speed.py` (its docstring gives the "
        "protocol; issue 17, item 4). One process, one thread everywhere. "
        f"At most {options['max_rows']:,} training rows per dataset (the suite's "
        "stratified 75/25 split of a stratified sample), "
        f"{options['timing_rows']:,} timing rows drawn with replacement from the "
        "test rows; teachers: the suite's XGBoost, LightGBM and RandomForest (100 "
        "trees each), fitted by `HPMDistiller()` with its defaults, which also "
        f"picked the student. 10k rows: best of {options['repeats']}; one row: "
        f"p50/p99 of {options['calls']:,} calls on distinct rows, or fewer for a "
        f"form slower than {options['row_budget']:g} s per {options['calls']:,} "
        f"calls (at least {options['min_calls']:,}; the column `calls`). Every "
        "ratio is to the fused teachers in Python (`teacher_proba`) of the "
        "same dataset and run "
        "(speed-up: its time / the form's; size: the three teachers' pickles / "
        "the artifact).",
        "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['library']['commit']}`",
        f"- machine: {document['machine']}; load before / after (`uptime`): "
        f"`{document['load_before']}` / `{document['load_after']}`",
        f"- wall time: {document['wall_s'] / 60:.1f} min",
        "",
        "## Where the issue's targets stand",
        "",
    ]
    lines[-2:-2] = [f"- failed: {name}: {why}"
                    for name, why in document.get("failed", {}).items()]
    s = document["summary"]
    n = s["n_datasets"]
    lines += [
        "| target | stands at | met |",
        "|---|---|---|",
        f"| student's best form >= {SPEEDUP_VS_NATIVE:.0f}x faster than the "
        f"teachers' native predict, 10k rows and one row, every dataset | "
        f"{len(s['vs_native_datasets'])} of {n} | "
        f"{_yes(s['vs_native_every_dataset'])} |",
        f"| student's best form >= {SPEEDUP_VS_COMPILED:.0f}x faster than the "
        f"teachers' best compiled form (here: their fastest forms), 10k rows "
        f"and one row, on >= "
        f"{DATASETS_VS_COMPILED} of 10 | {len(s['vs_compiled_datasets'])} of {n} | "
        f"{_yes(s['vs_compiled_met'])} |",
        f"| compiled student's single-row p50 <= {P50_LIMIT_S * 1e6:.0f} µs, every "
        f"dataset | {len(s['p50_datasets'])} of {n} | {_yes(s['p50_every_dataset'])} |",
        "",
        "## Summary",
        "",
        "Student's best form (the fastest of Python, `serving_model`, the raw "
        "session and, for a tree student, its trees compiled by lleaves, for a "
        "dense student its graph compiled through llvmlite, chosen "
        "apart for 10k rows and one row) against the fused "
        "teachers in Python and against the teachers' fastest forms (each "
        "teacher in its fastest form, compiled or native, called one after the "
        "other; the fusion left out).",
        "",
        "| dataset | rows train | student | teachers Python 10k / p50 | student best "
        "10k vs Python / vs compiled | student best p50 vs Python / vs compiled | "
        "compiled student p50 | teachers fastest 10k / p50 | size: "
        "teachers / student ONNX |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        f, t = result["forms"], result["targets"]
        base, comp = f[BASELINE], f[TEACHERS_BEST]
        onnx = f[STUDENT_ONNX]
        lines.append(
            f"| {name} | {result['rows']['train']:,} | {result['student']} | "
            f"{_ms(base['batch_s'])} / {_us(base['p50_s'])} | "
            f"{_x(t['vs_native']['batch'])} / {_x(t['vs_compiled']['batch'])} | "
            f"{_x(t['vs_native']['row'])} / {_x(t['vs_compiled']['row'])} | "
            f"{_us(t['compiled_student_p50_s'])} | {_ms(comp['batch_s'])} / "
            f"{_us(comp['p50_s'])} | {_size(base['n_bytes'])} / "
            f"{_size(onnx['n_bytes'])} ({_x(onnx['compression'])}) |")
    lines += ["", "## Every form, per dataset", "",
              "Speed-ups and compression against the first row (the baseline); "
              "parity: largest |difference| from the Python model it compiles, on "
              "the timing rows.", ""]
    for name, result in results.items():
        acc = result["accuracy"]
        lines += [
            f"### {name}",
            "",
            f"{result['rows']['train']:,} training rows, {result['n_classes']} "
            f"classes; student {result['student']} (fit {result['fit_s']:.1f} s); "
            f"test accuracy teachers {100 * acc['teachers']:.1f} %, student "
            f"{100 * acc['student']:.1f} %, fidelity {100 * acc['fidelity']:.1f} %. "
            f"Load before / after: `{load_average(result['load_before'])}` / "
            f"`{load_average(result['load_after'])}`.",
            "",
            "| form | 10k rows | speed-up | one row p50 | speed-up | p99 | speed-up "
            "| calls | size | compression | parity |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for form_name, fig in result["forms"].items():
            diff = fig["max_abs_diff"]
            lines.append(
                f"| {form_name} | {_ms(fig['batch_s'])} | {_x(fig['batch_speedup'])} "
                f"| {_us(fig['p50_s'])} | {_x(fig['p50_speedup'])} | "
                f"{_us(fig['p99_s'])} | {_x(fig['p99_speedup'])} | "
                f"{fig['n_calls']:,} | {_size(fig['n_bytes'])} | "
                f"{_x(fig['compression'])} | "
                f"{'—' if diff is None else f'{diff:.0e}'} |")
        parts = result["teachers_best_parts"]
        lines += ["", "Teachers' fastest forms: 10k rows "
                      f"{' + '.join(parts['batch'])}; one row "
                      f"{' + '.join(parts['row'])}."]
        for form_name, why in result["not_built"].items():
            lines.append(f"Not built: {form_name}: {why}")
        lines.append("")
    return "\n".join(lines)


# --- the command -----------------------------------------------------------------

def main(argv=None):
    """Run the table and write ``serving_speed.json`` and ``serving_speed.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    parser.add_argument("--max-rows", type=int, default=10_000,
                        help="training rows per dataset, at most")
    parser.add_argument("--timing-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5,
                        help="10k-row calls per form (the best is kept)")
    parser.add_argument("--calls", type=int, default=1000,
                        help="single-row calls per form")
    parser.add_argument("--row-budget", type=float, default=10.0,
                        help="seconds of single-row calls per form: a slower "
                             "form makes fewer calls (--min-calls at least)")
    parser.add_argument("--min-calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], choices=list(BUILDERS),
                        help="compiled teacher forms not to build")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--output", default="serving_speed",
                        help="file name of the results, without extension")
    options = parser.parse_args(argv)
    start = time.perf_counter()
    load_before = uptime()
    results, failed = {}, {}
    with one_thread():
        for name in options.datasets:
            try:
                results[name] = run_dataset(name, options)
            except Exception as error:  # recorded; the other datasets go on
                failed[name] = f"{type(error).__name__}: {error}"[:500]
                log(f"{name}: FAILED {failed[name]}")
                continue
            t = results[name]["targets"]
            log(f"{name}: student best vs Python {t['vs_native']['batch']:.1f}x "
                f"(10k) / {t['vs_native']['row']:.1f}x (row); vs compiled "
                f"{t['vs_compiled']['batch']:.1f}x / {t['vs_compiled']['row']:.1f}x; "
                f"compiled p50 {t['compiled_student_p50_s'] * 1e6:.1f} us")
    document = {
        "command": " ".join(["python -m benchmarks.serving_speed",
                             *(sys.argv[1:] if argv is None else argv)]),
        "options": {key: (str(value) if isinstance(value, Path) else value)
                    for key, value in vars(options).items()},
        "library": library(),
        "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "machine": machine(),
        "threads": 1,
        "versions": _versions("scikit-learn", "xgboost", "lightgbm", "torch",
                              "onnxruntime", "onnx", "skl2onnx", "onnxmltools",
                              "lleaves", "llvmlite"),
        "load_before": load_before,
        "load_after": uptime(),
        "wall_s": time.perf_counter() - start,
        "datasets": results,
        "failed": failed,
        "summary": summary(results),
    }
    out = Path(options.out)
    write_json(out / f"{options.output}.json", document)
    (out / f"{options.output}.md").write_text(render(document))
    log(f"wrote {out / options.output}.json and .md")
    return document


def _versions(*distributions):
    """Python's version and each installed distribution's (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in distributions:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


if __name__ == "__main__":
    main()
