"""ONNX export parity on the suite's datasets with categorical columns.

For wa_churn and credit_data (2,000-row samples: 1,500 to distil, 500 to
compare), one ``HPMDistiller`` per student family (the default teacher,
``augment=None``, ``chain=False``), exported with ``skdistill.export.to_onnx``
and run by onnxruntime on the 500 held-out rows fed by ``onnx_inputs``: the
largest absolute difference from ``predict_proba``.

Run: ``python -m benchmarks.onnx_parity`` (about 2 minutes on 2 cores; writes
``benchmarks/results/onnx_parity.md``).
"""

import argparse

import numpy as np
import onnxruntime as ort

from skdistill import (
    HPMDistiller,
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
    XGBStudent,
)
from skdistill.export import onnx_inputs, to_onnx

from .common import RESULTS, git
from .datasets import load

DATASETS = ("wa_churn", "credit_data")
STUDENTS = {
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(16,), max_epochs=20,
                              random_state=0),
    "tree": lambda: TreeStudent(max_depth=6),
    "lgbm": lambda: LGBMStudent(n_estimators=30),
    "xgb": lambda: XGBStudent(n_estimators=30),
    "linear": lambda: LinearStudent(),
}


def max_difference(name, family, n_fit=1500, n_rows=2000):
    """Largest |ONNX - predict_proba| of one family on one dataset."""
    X, y, _ = load(name, max_rows=n_rows)
    distiller = HPMDistiller(student=STUDENTS[family](), augment=None, chain=False,
                             random_state=0, n_jobs=1).fit(X[:n_fit], y[:n_fit])
    model = to_onnx(distiller, X[:5])
    session = ort.InferenceSession(model.SerializeToString())
    rows = X[n_fit:]
    proba = session.run(None, onnx_inputs(model, rows))[0]
    return float(np.abs(proba - distiller.predict_proba(rows)).max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=str(RESULTS / "onnx_parity.md"))
    args = parser.parse_args(argv)
    commit = git("rev-parse", "--short", "HEAD")
    lines = [f"# ONNX parity with categorical columns (commit `{commit}`)", "",
             "`python -m benchmarks.onnx_parity`: max |ONNX - predict_proba| on "
             "500 held-out rows.", "",
             "| dataset | " + " | ".join(STUDENTS) + " |",
             "|---|" + "---|" * len(STUDENTS)]
    for name in DATASETS:
        cells = [f"{max_difference(name, family):.1e}" for family in STUDENTS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    with open(args.output, "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
