"""Every Python block of the README runs as written, on small data.

The blocks share one namespace, as a reader's session would: the first defines
the teachers ``xgb`` and ``forest`` and the distiller ``d`` that later blocks
use. The data the README leaves to the reader (``X_train``, ``y_train``,
``X_test``, ``y_test``, ``X_serving``) is a small frame with the columns the
README names. The first block runs in the default step; the others, which fit
more distillers (searches, a grid search, a Dask cluster), in the slow one.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _data():
    rng = np.random.RandomState(0)
    n = 240
    frame = pd.DataFrame({"age": rng.randint(18, 80, n).astype(float),
                          "income": rng.lognormal(10, 0.5, n),
                          "region": rng.randint(0, 4, n).astype(float),
                          "score": rng.normal(size=n)})
    y = ((frame["age"] > 45) ^ (frame["score"] > 0.3)).astype(int).to_numpy()
    return {"X_train": frame[:180], "y_train": y[:180], "X_test": frame[180:],
            "y_test": y[180:], "X_serving": frame[180:]}


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The namespace after the README's first block."""
    namespace = _data()
    exec(compile(BLOCKS[0], "README.md block 1", "exec"), namespace)
    return namespace


def _params():
    for index, block in enumerate(BLOCKS[1:], start=2):
        # The first block runs in the default step (the fixture); the others
        # in the slow one.
        marks = [pytest.mark.slow]
        yield pytest.param(index, block, id=f"block {index}", marks=marks)


def test_the_first_block_fits_a_distiller(session):
    assert session["d"].report_.fidelity > 0.5


@pytest.mark.parametrize(("index", "block"), list(_params()))
def test_block_runs(session, index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    # The Dask block names a scheduler the reader runs; here an in-process one.
    block = block.replace('Client("scheduler-address:8786")',
                          "Client(processes=False, n_workers=1)")
    exec(compile(block, f"README.md block {index}", "exec"), dict(session))
