"""The package works with its core dependencies alone."""

import subprocess
import sys

import pytest

_WITHOUT_PANDAS = """
import importlib.abc
import sys


class NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "pandas":
            raise ImportError("pandas is not installed")


sys.meta_path.insert(0, NoPandas())
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from skdistill import HPMDistiller
X, y = make_classification(n_samples=200, n_features=5, random_state=0)
distiller = HPMDistiller(LogisticRegression(), student="linear", augment="munge",
                         augment_ratio=1.0, random_state=0).fit(X, y)
assert "pandas" not in sys.modules
print(distiller.report_.details["n_synthetic_rows"])
"""


@pytest.mark.slow  # a fresh Python process importing torch
def test_fits_without_pandas_which_is_not_a_core_dependency():
    result = subprocess.run([sys.executable, "-c", _WITHOUT_PANDAS],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "160"
