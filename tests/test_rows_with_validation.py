"""The final student's rows: the real training rows, then the validation rows."""

from types import SimpleNamespace

import numpy as np

from skdistill._transfer import TransferSet, rows_with_validation


def _fused(Z_valid, targets_valid):
    return SimpleNamespace(label=lambda X: (Z_valid, targets_valid))


def test_every_real_row_then_the_validation_rows():
    transfer = TransferSet(np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1]),
                           np.full((4, 2), 0.5), None, task="task")
    Z_valid, targets_valid = np.full((2, 2), 9.0), np.full((2, 2), 0.25)
    rows = rows_with_validation(transfer, _fused(Z_valid, targets_valid),
                                None, np.array([1, 0]), None)
    np.testing.assert_array_equal(rows.Z, np.vstack([transfer.Z, Z_valid]))
    assert rows.y.tolist() == [0, 1, 0, 1, 1, 0] and rows.task == "task"
    assert rows.weight is None and rows.synthetic is None
    # The set given is not changed (it is stacked, not copied first).
    assert transfer.Z.shape == (4, 2) and rows.targets.shape == (6, 2)


def test_synthetic_rows_are_left_out_and_weights_follow():
    transfer = TransferSet(np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1]),
                           np.full((4, 2), 0.5), np.array([1.0, 2.0, 3.0, 4.0]),
                           np.array([False, True, False, True]), task="task")
    rows = rows_with_validation(transfer, _fused(np.zeros((1, 2)),
                                                 np.zeros((1, 2))),
                                None, np.array([1]), np.array([5.0]))
    np.testing.assert_array_equal(rows.Z[:2], transfer.Z[[0, 2]])
    assert rows.weight.tolist() == [1.0, 3.0, 5.0] and rows.y.tolist() == [0, 0, 1]
