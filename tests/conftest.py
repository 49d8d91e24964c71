"""Small fixed-seed datasets and fast settings shared by the tests."""

import os

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from skdistill import MLPStudent
from skdistill._teacher_outputs import PROCESS_CACHE, PROCESS_COPIES


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # The test nets are tiny: a second intra-op thread buys nothing, and on a
    # shared 2-core machine OpenMP threads waiting for each other made single fits
    # up to 100x slower. (The library itself trains small networks on one
    # thread; this covers the rest of torch in the tests.)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True, scope="session")
def _one_native_thread_per_worker():
    # Under pytest-xdist (setup.cfg: one worker per core) a second OpenMP or BLAS
    # thread per worker only makes the workers wait for each other.
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    with threadpool_limits(limits=1):
        yield


# The fast distiller's longest contract checks (about 3 s each: they train it on
# larger data) run in the slow step; the rest of its contract in the default one.
_SLOW_CHECKS = ("check_classifiers_train", "check_estimator_sparse")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if (getattr(item, "originalname", "") ==
                "test_fast_distiller_follows_the_contract"
                and any(check in item.name for check in _SLOW_CHECKS)):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_teacher_outputs_of_other_tests():
    # The process keeps teacher outputs (and copies) between fits: each test
    # starts without.
    PROCESS_CACHE.clear()
    PROCESS_COPIES.clear()


@pytest.fixture
def binary_data():
    return make_classification(n_samples=300, n_features=6, n_informative=4,
                               random_state=0)


@pytest.fixture
def multiclass_data():
    return make_classification(n_samples=400, n_features=8, n_informative=5,
                               n_classes=3, random_state=0)


@pytest.fixture
def fast_teacher():
    return HistGradientBoostingClassifier(max_iter=20, random_state=0)


@pytest.fixture
def fast_student():
    return MLPStudent(hidden_layer_sizes=(16,), learning_rate=1e-2, max_epochs=60,
                      random_state=0)


@pytest.fixture(scope="session")
def noisy_problem():
    """A problem where a small student on few rows clearly trails the teacher.

    3 classes, 15 % flipped labels: the teacher, fitted on 4,000 rows, smooths the
    noise; a student fitted on 600 rows of hard labels cannot.
    """
    X, y = make_classification(
        n_samples=8000, n_features=20, n_informative=10, n_redundant=4,
        n_classes=3, n_clusters_per_class=2, flip_y=0.15, random_state=0,
    )
    teacher_rows, student_rows, test_rows = (
        np.arange(4000), np.arange(4000, 4600), np.arange(5000, 8000))
    teacher = HistGradientBoostingClassifier(random_state=0).fit(
        X[teacher_rows], y[teacher_rows])
    return teacher, (X[student_rows], y[student_rows]), (X[test_rows], y[test_rows])


def _region_label(X):
    """Two unrelated rules: x1 * x2 > 0 where x0 < 0, sin(2 x3) + x4 > 0 elsewhere."""
    left = X[:, 1] * X[:, 2] > 0
    right = np.sin(2 * X[:, 3]) + X[:, 4] > 0
    return np.where(X[:, 0] < 0, left, right).astype(np.intp)


@pytest.fixture(scope="session")
def two_region_problem():
    """Two teachers, each an expert on one half of the feature space.

    Teacher A is fitted on the rows of ``X[:3000]`` with x0 < 0 only, teacher B on
    those with x0 >= 0: each is near perfect on its half and near chance on the
    other. Rows from 3000 on were seen by neither.
    """
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6000, 5))
    y = _region_label(X)
    left = X[:3000, 0] < 0
    # One OpenMP thread: on a busy machine spinning threads cost a minute.
    with threadpool_limits(limits=1):
        teachers = [
            HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(
                X[:3000][part], y[:3000][part])
            for part in (left, ~left)
        ]
    return teachers, X, y
