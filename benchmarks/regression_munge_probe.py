"""The regression curve's MLP with ``augment="auto"``, fixed MUNGE rows or none
(issue 16; a probe).

Per dataset and seed: a 2,000-row sample, the suite's 75/25 split (not
stratified), the suite's three regression teachers fitted on the training rows
and given through ``FrozenEstimator`` with ``prefit_teachers="cross_fit"`` (the
copies come from the process's output cache after the first setting). The
student is ``MLPRegressionStudent`` of one hidden layer ``ratio`` times smaller
than the teachers in parameters (``suite.fit.hidden_units``), distilled by
``HPMRegressor(student=..., n_jobs=1)`` with one change per setting
(``SETTINGS``); ``direct`` is the student on the true target alone. Prints one
line per fit with the augmentation check's details; writes the rows to the
JSON file named last.

Run::

    PYTHONPATH=. nice -n 5 python benchmarks/regression_munge_probe.py 100 \\
        concrete,ames auto,munge,direct /tmp/regression_munge_probe.json
"""

import json
import sys
import warnings

import numpy as np

SETTINGS = {"auto": {}, "munge": {"augment": "munge"}, "none": {"augment": None},
            "direct": {"alpha": 0.0, "augment": None, "chain": False}}


def run(ratio, datasets, settings, seeds=(0, 1, 2)):
    """Every setting on every dataset and seed; one dict per fit."""
    from benchmarks.datasets import load_regression
    from benchmarks.suite.fit import Split, fit_distiller, prefit_curve_case
    from skdistill import HPMRegressor, LinearRegressionStudent, MLPRegressionStudent

    rows = []
    for name in datasets:
        for seed in seeds:
            X, y = load_regression(name, 2000, random_state=seed)[:2]
            split = Split(X, y, seed, latency_rows=1, stratify=False)
            frozen, width = prefit_curve_case(split, ratio, task="regression")
            # Untimed: the teachers' cross-fitted copies, kept in the process's
            # cache for the timed settings.
            fit_distiller(split, frozen, {"student": LinearRegressionStudent(),
                                          "prefit_teachers": "cross_fit",
                                          "augment": None}, seed,
                          estimator=HPMRegressor)
            fused = np.mean([f.predict(split.X_test) for f in frozen], axis=0)
            teachers = float(np.sqrt(np.mean((fused - split.y_test) ** 2)))
            for setting in settings:
                student = MLPRegressionStudent(hidden_layer_sizes=(width,),
                                               random_state=seed)
                distiller, seconds = fit_distiller(split, frozen, {
                    "student": student, "prefit_teachers": "cross_fit",
                    **SETTINGS[setting]}, seed, estimator=HPMRegressor)
                error = distiller.predict(split.X_test) - split.y_test
                rmse = float(np.sqrt(np.mean(error ** 2)))
                check = distiller.report_.details["configuration"].get(
                    "augmentation_check")
                rows.append({"dataset": name, "seed": seed, "variant": setting,
                             "rmse": rmse, "teacher": teachers, "fit_s": seconds,
                             "width": width, "check": check})
                print(name, seed, setting, width, f"rmse {rmse:.4g}",
                      f"teachers {teachers:.4g}", f"{seconds:.1f}s",
                      f"check {check}", flush=True)
    return rows


def main(argv):
    warnings.simplefilter("ignore")
    ratio, datasets, settings = float(argv[0]), argv[1].split(","), argv[2].split(",")
    rows = run(ratio, datasets, settings)
    with open(argv[3], "w") as out:
        json.dump(rows, out, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
