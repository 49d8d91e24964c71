"""The benchmark runner runs end to end on a tiny subset and writes what it says."""

import json

import pytest

pytest.importorskip("pandas")

from benchmarks import run as runner  # noqa: E402
from benchmarks.suite import config  # noqa: E402
from benchmarks.suite.cli import _last_of_each, parse_options  # noqa: E402
from benchmarks.suite.fit import accepts, lever_rows, trees_for_bytes  # noqa: E402
from benchmarks.suite.render import update_readme  # noqa: E402
from benchmarks.suite.rows import _row_names, row_groups, selected_rows  # noqa: E402
from skdistill import HPMDistiller  # noqa: E402


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    runner.run(["--suite", "quick", "--datasets", "digits", "--seeds", "0",
                "--max-rows", "300", "--teacher-estimators", "3",
                "--latency-rows", "1000",
                "--curve-datasets", "digits", "--curve-ratios", "100",
                "--no-reference", "--out", str(out)])
    return out


def _expected_rows():
    return _row_names()


@pytest.mark.slow  # on a benchmark run
def test_json_has_every_row_with_every_column(quick_results):
    results = json.loads((quick_results / "suite_quick.json").read_text())
    table = {entry["row"]: entry for entry in results["table"]}
    assert list(table) == _expected_rows()
    for entry in table.values():
        assert set(config.METRICS) <= set(entry)
    assert table[config.DEFAULT]["status"] == "ok"
    assert 0 <= table[config.DEFAULT]["accuracy"]["mean"] <= 1
    assert table[config.REFERENCE]["status"].startswith("skipped")
    for row in (*config.PREFIT, config.LGBM_DIRECT, config.LGBM_DIRECT_BYTES):
        assert table[row]["status"] == "ok", row
    assert table[config.LGBM_DIRECT_BYTES]["student"].startswith(
        "LGBMClassifier(n_estimators=")
    for row, params in lever_rows().items():
        assert table[row]["status"].startswith(
            "skipped" if isinstance(params, str) else "ok"), row


@pytest.mark.slow  # on a benchmark run
def test_json_has_the_compression_curve(quick_results):
    results = json.loads((quick_results / "suite_quick.json").read_text())
    assert [(c["ratio"], c["method"]) for c in results["curve"]] == [
        (100, method) for method in config.CURVE_METHODS]


@pytest.mark.slow  # on a benchmark run
def test_markdown_has_the_tables_and_the_plots(quick_results):
    markdown = (quick_results / "suite_quick.md").read_text()
    assert "| dataset | teachers (fused) | direct | plain KD |" in markdown
    for row in _expected_rows():
        assert f"| {row} |" in markdown
    for plot in ("suite_quick_curve.png", "suite_quick_ablations.png"):
        assert (quick_results / plot).stat().st_size > 0
        assert f"]({plot})" in markdown


@pytest.mark.slow  # on a benchmark run
def test_update_readme_replaces_only_its_block(quick_results, tmp_path):
    results = json.loads((quick_results / "suite_quick.json").read_text())
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{config.README_START}\nold\n{config.README_END}\n"
                      "after\n")
    update_readme(results, quick_results / "suite_quick.md", readme)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n")
    assert "old" not in text and "| digits |" in text


@pytest.mark.slow  # on a benchmark run
def test_runs_of_disjoint_datasets_merge_into_one_table(quick_results, tmp_path):
    document = json.loads((quick_results / "suite_quick.json").read_text())
    renamed = json.loads(json.dumps(document).replace('"digits"', '"digits_b"'))
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(document))
    second.write_text(json.dumps(renamed))
    merged = runner.run(["--suite", "quick", "--merge", str(first), str(second),
                         "--no-plots", "--out", str(tmp_path / "merged")])
    assert merged["meta"]["datasets"] == ["digits", "digits_b"]
    assert len(merged["runs"]) == 2 * len(document["runs"])
    by_dataset = {}
    for entry in merged["table"]:
        by_dataset.setdefault(entry["dataset"], []).append(entry)
    assert by_dataset["digits"] == json.loads(json.dumps(
        by_dataset["digits_b"]).replace('"digits_b"', '"digits"'))
    assert (tmp_path / "merged" / "suite_quick.md").is_file()


def test_the_shipped_prior_never_saw_a_suite_dataset():
    from benchmarks import datasets
    from skdistill._ranker import load_prior

    tasks = {e["extra"]["task"].split("@")[0] for e in load_prior()}
    assert tasks == set(datasets.PRIOR_DATASETS)
    assert not tasks & set(datasets.DATASETS)


def test_options_take_the_suite_settings_unless_given():
    full = parse_options(["--suite", "full"])
    assert full.row_caps == {"diamonds": 10_000, "flights": 10_000}
    assert full.max_rows is None and full.explicit_max_rows is None
    assert full.curve_ratios == [10, 100, 1000]
    assert full.scale == ("flights", (0.1, 0.3, 1.0))
    given = parse_options(["--suite", "full", "--max-rows", "500", "--datasets",
                           "--curve-ratios", "50", "2.5", "--no-scale"])
    assert given.row_caps == {} and given.max_rows == given.explicit_max_rows == 500
    assert given.datasets == [] and given.curve_ratios == [50, 2.5]
    assert given.scale is None


def test_rows_select_groups_and_names():
    groups = row_groups()
    assert selected_rows(["prefit"]) == set(config.PREFIT)
    assert selected_rows(["levers", config.DIRECT]) == {*config.LEVERS,
                                                        config.DIRECT}
    assert selected_rows() == {row for rows in groups.values() for row in rows}
    assert config.LGBM_DIRECT in groups["baselines"]
    with pytest.raises(ValueError, match="unknown rows"):
        selected_rows(["prefit", "no such row"])
    with pytest.raises(SystemExit):
        parse_options(["--rows", "no such row"])
    names = _row_names(["prefit"])
    assert names[-len(config.PREFIT):] == list(config.PREFIT)
    assert config.DIRECT not in names and config.DEFAULT in names


def test_a_lever_runs_only_where_the_installed_version_takes_it():
    assert accepts(HPMDistiller(), {"alpha": 0.5}) is None
    assert "no_such_lever" in accepts(HPMDistiller(), {"no_such_lever": 1})
    assert "augment_ratio" in accepts(HPMDistiller(), {"augment_ratio": -1.0})
    for row, params in lever_rows().items():
        if isinstance(params, str):
            assert params.startswith("not in this version"), row
        else:
            others = {k: v for k, v in params.items() if k != "student"}
            assert accepts(HPMDistiller(), others) is None, row


def test_the_byte_matched_lightgbm_keeps_between_one_and_fifty_trees():
    assert trees_for_bytes(10_000, 1_000) == 10
    assert trees_for_bytes(10, 1_000) == 1
    assert trees_for_bytes(10**9, 1_000) == config.LGBM_TREES


def test_a_merge_keeps_the_last_fit_of_each_row():
    first = [{"dataset": "a", "seed": 0, "row": "x", "v": 1},
             {"dataset": "a", "seed": 0, "row": "y", "v": 2}]
    second = [{"dataset": "a", "seed": 0, "row": "x", "v": 3},
              {"dataset": "a", "seed": 1, "row": "x", "v": 4}]
    kept = _last_of_each(first + second, ("dataset", "seed", "row"))
    assert [(r["row"], r["seed"], r["v"]) for r in kept] == [
        ("x", 0, 3), ("y", 0, 2), ("x", 1, 4)]


def test_targets_count_wins_against_lightgbm_and_with_prefit_teachers():
    from benchmarks.suite.summarise import summarise, targets

    accuracy = {config.DEFAULT: 0.80, config.DIRECT: 0.70, config.PLAIN_KD: 0.70,
                config.LGBM_DIRECT: 0.85, config.LGBM_DIRECT_BYTES: 0.60,
                config.PREFIT_DEFAULT: 0.75, config.PREFIT_KD: 0.70}
    runs = [{"dataset": "d", "seed": 0, "row": row, "kind": "x", "status": "ok",
             "accuracy": value, "fit_s": 1.0, "fit_s_without_teachers": 0.5,
             "compression": 20.0} for row, value in accuracy.items()]
    found = targets(summarise(runs), [], [])
    assert found["beats_direct_and_kd"]["wins"] == 1
    assert (found["beats_direct_kd_and_lightgbm"]["wins"],
            found["beats_direct_kd_and_lightgbm"]["datasets"]) == (0, 1)
    assert (found["prefit_beats_direct_and_kd"]["wins"],
            found["prefit_beats_direct_and_kd"]["datasets"]) == (0, 1)
