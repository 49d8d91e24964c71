"""Issue 16's speed target with the student served: the regression suite's
student, in Python and in its serving forms, against the teachers in Python.

For each regression suite dataset (:data:`benchmarks.datasets.REGRESSION_DATASETS`),
one seed: the medium suite's split (at most 2,000 rows, 75/25, 10,000 timing
rows drawn with replacement from the test rows), ``HPMRegressor()`` with its
defaults given the suite's three unfitted regression teachers (XGBoost, LightGBM,
an ordinal-encoded RandomForest; 100 trees each), as the suite's default row fits
it. Then, one thread everywhere, on the 10,000 rows, best of ``--repeats`` calls,
the forms alternating within each repeat:

- ``teachers, Python``: ``teacher_predict`` (the three teachers and their
  fusion), **the baseline of every ratio**, as the suite's speed-up column;
- ``student, Python``: ``student_.predict`` on the DataFrame (what the suite
  times);
- ``student, serving_model``: ``skdistill.export.serving_model`` on the DataFrame;
- ``student, lleaves``: ``serving_model(engine="lleaves")`` on the DataFrame;
- ``student, lleaves (tree rows)``: its ``run_trees`` on the rows its
  ``tree_rows`` made before the clock (the numeric columns and category codes,
  as a server that keeps its categories as codes feeds it).

Run::

    nice -n 5 python -m benchmarks.regression_serving

Results: ``results/regression_serving.json`` and ``.md``.
"""

import argparse
import sys
import warnings
from functools import partial

import numpy as np

from skdistill import HPMRegressor
from skdistill.export import serving_model

from .common import (
    RESULTS,
    best_call_times,
    git,
    log,
    one_thread,
    uptime,
    write_json,
)
from .datasets import REGRESSION_DATASETS, load_regression
from .suite.fit import Split, fit_distiller, make_teachers

COMMAND = "nice -n 5 python -m benchmarks.regression_serving"
BASELINE = "teachers, Python"
TARGET = 20.0


def forms(regressor, split):
    """Form name -> (predict, its input on the timing rows)."""
    X = split.X_latency
    sample = split.X_train.iloc[:10]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = {
            BASELINE: (regressor.teacher_predict, X),
            "student, Python": (regressor.student_.predict, X),
            "student, serving_model": (serving_model(regressor, sample).predict, X),
        }
        try:
            compiled = serving_model(regressor, sample, engine="lleaves")
        except ValueError as error:  # not a tree student
            log(f"  no lleaves form: {error}")
        else:
            found["student, lleaves"] = (compiled.predict, X)
            found["student, lleaves (tree rows)"] = (
                lambda rows: compiled.run_trees(rows)[:, 0], compiled.tree_rows(X))
    expected = regressor.student_.predict(X)
    parity = {name: float(np.max(np.abs(np.ravel(predict(rows)) - expected)))
              for name, (predict, rows) in found.items() if name != BASELINE}
    return found, parity


def time_forms(found, repeats):
    """Best of ``repeats`` calls of each form, alternating within each repeat,
    after one untimed call each."""
    for predict, rows in found.values():
        predict(rows)
    return best_call_times({name: partial(predict, rows)
                            for name, (predict, rows) in found.items()}, repeats)


def run_dataset(name, options):
    X, y = load_regression(name, options.max_rows, random_state=options.seed)
    split = Split(X, y, options.seed, stratify=False)
    log(f"{name}: {len(split.X_train)} training rows, fitting HPMRegressor()")
    regressor, fit_s = fit_distiller(
        split, make_teachers(options.seed, task="regression"), {}, options.seed,
        HPMRegressor)
    found, parity = forms(regressor, split)
    seconds = time_forms(found, options.repeats)
    base = seconds[BASELINE]
    result = {
        "student": str(regressor.student_[-1]), "fit_s": fit_s,
        "rows_train": len(split.X_train),
        "forms": {form: {"batch_s": s, "speedup": base / s,
                         "max_abs_diff": parity.get(form)}
                  for form, s in seconds.items()},
    }
    log("  " + ", ".join(f"{form} {1e3 * s:.1f} ms ({base / s:.1f}x)"
                         for form, s in seconds.items()))
    return result


def render(document):
    names = list(dict.fromkeys(form for result in document["datasets"].values()
                               for form in result["forms"]))
    lines = [
        "# Regression: the student served, against the teachers in Python",
        "",
        "Written by `benchmarks/regression_serving.py` (its docstring gives the "
        "protocol). 10,000 rows, best of "
        f"{document['options']['repeats']} calls, one thread; each ratio is the "
        "fused teachers' `teacher_predict` time over the form's, in the same run.",
        "",
        f"- command: `{document['command']}`",
        f"- commit: `{document['commit']}`",
        f"- load before / after (`uptime`): `{document['load_before']}` / "
        f"`{document['load_after']}`",
        "",
        "| dataset | student | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for dataset, result in document["datasets"].items():
        cells = [f"{1e3 * f['batch_s']:.1f} ms ({f['speedup']:.1f}x)"
                 if (f := result["forms"].get(form)) else "—" for form in names]
        lines.append(f"| {dataset} | {result['student']} | " + " | ".join(cells)
                     + " |")
    best = {dataset: max(f["speedup"] for form, f in result["forms"].items()
                         if form != BASELINE)
            for dataset, result in document["datasets"].items()}
    met = [dataset for dataset, ratio in best.items() if ratio >= TARGET]
    lines += ["", f"Student's best form >= {TARGET:.0f}x faster than the teachers "
              f"on 10k rows: {len(met)} of {len(best)} "
              f"({', '.join(f'{d} {r:.1f}x' for d, r in best.items())}). Largest "
              "|difference| from `student_.predict`, per form: "
              + "; ".join(f"{d}: " + ", ".join(
                  f"{form.removeprefix('student, ')} {f['max_abs_diff']:.0e}"
                  for form, f in r["forms"].items() if f["max_abs_diff"] is not None)
                          for d, r in document["datasets"].items()) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(REGRESSION_DATASETS))
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="regression_serving")
    options = parser.parse_args(argv)
    document = {"command": COMMAND, "commit": git("rev-parse", "HEAD") or "",
                "options": vars(options), "load_before": uptime(), "datasets": {}}
    with one_thread():
        for name in options.datasets:
            document["datasets"][name] = run_dataset(name, options)
    document["load_after"] = uptime()
    write_json(RESULTS / f"{options.output}.json", document)
    (RESULTS / f"{options.output}.md").write_text(render(document))
    print(render(document))


if __name__ == "__main__":
    sys.exit(main())
