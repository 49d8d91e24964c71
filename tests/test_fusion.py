"""Multi-teacher fusion: global weights, and a gate that weighs teachers per row."""

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from skdistill import _gate
from skdistill._fusion import (
    AccuracyFusion,
    AttentionFusion,
    MeanFusion,
    fuse,
    gate_loss,
    make_fusion,
)


@pytest.fixture(scope="module")
def two_experts(two_region_problem):
    """Gate inputs on 1,500 fresh rows, and 1,500 others to judge it on."""
    teachers, X, y = two_region_problem

    def rows(part):
        return X[part], np.stack([t.predict_proba(X[part]) for t in teachers]), y[part]

    return rows(slice(3000, 4500)), rows(slice(4500, 6000))


def _similar_teachers(n_samples, seed):
    """Two noisy teachers of similar quality everywhere: no per-row structure."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 5))
    logit = X[:, 0] + X[:, 1]
    y = (rng.uniform(size=n_samples) < expit(logit)).astype(np.intp)
    positive = [expit(logit + rng.normal(scale=0.7, size=n_samples))
                for _ in range(2)]
    return X, np.stack([np.column_stack([1 - p, p]) for p in positive]), y


def _random_proba(n_teachers, n_samples, n_classes, seed):
    rng = np.random.RandomState(seed)
    return softmax(2 * rng.normal(size=(n_teachers, n_samples, n_classes)), axis=2)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gate_gives_each_region_to_the_teacher_that_knows_it(two_experts):
    (X_gate, P_gate, y_gate), (X_test, P_test, _) = two_experts
    weights = AttentionFusion().fit(X_gate, P_gate, y_gate).weights(X_test, P_test)
    left = X_test[:, 0] < 0
    # Measured: A gets 0.88 of the weight where x0 < 0, B 0.84 where x0 >= 0
    # (the teachers: A 0.996 accurate on x0 < 0, 0.478 on x0 >= 0; B 0.505, 0.987).
    assert weights[left, 0].mean() > 0.8
    assert weights[~left, 1].mean() > 0.75


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gated_targets_beat_the_mean_of_the_teachers(two_experts):
    (X_gate, P_gate, y_gate), (X_test, P_test, y_test) = two_experts
    gated = AttentionFusion().fit(X_gate, P_gate, y_gate).fuse(X_test, P_test)
    mean = MeanFusion().fit(X_gate, P_gate, y_gate).fuse(X_test, P_test)
    # Measured: accuracy 0.985 vs 0.780, log-loss 0.112 vs 0.368.
    assert np.mean(gated.argmax(axis=1) == y_test) > np.mean(
        mean.argmax(axis=1) == y_test) + 0.15
    assert log_loss(y_test, gated) < log_loss(y_test, mean) - 0.2


@pytest.mark.parametrize("fusion", ["attention", "mean", "accuracy"])
def test_one_teacher_is_passed_through_unchanged(fusion):
    proba = _random_proba(1, 50, 3, seed=0)
    features = np.random.RandomState(1).normal(size=(50, 4))
    y = proba[0].argmax(axis=1)
    fitted = make_fusion(fusion, random_state=0).fit(features, proba, y)
    np.testing.assert_array_equal(fitted.weights(features, proba), 1.0)
    np.testing.assert_allclose(fitted.fuse(features, proba), proba[0])


def test_one_teacher_skips_the_optimisation():
    proba = _random_proba(1, 50, 2, seed=0)
    gate = AttentionFusion().fit(None, proba, proba[0].argmax(axis=1))
    assert gate.n_iter_ == 0
    np.testing.assert_array_equal(gate.coef_, 0.0)


def test_few_rows_fall_back_to_global_weights():
    X, proba, y = _similar_teachers(30, seed=0)
    X_test, proba_test, _ = _similar_teachers(2000, seed=1)
    gate = AttentionFusion().fit(X, proba, y)
    unregularised = AttentionFusion(alpha=1e-3).fit(X, proba, y)
    bias_only = AttentionFusion(alpha=np.inf).fit(X, proba, y)
    weights = gate.weights(X_test, proba_test)
    global_weights = bias_only.weights(X_test, proba_test)
    # Measured std of teacher 0's weight across rows: 0.052 here, 0.447 with
    # alpha=1e-3; mean weight 0.419 against the bias-only 0.434.
    assert weights[:, 0].std() < 0.08
    assert unregularised.weights(X_test, proba_test)[:, 0].std() > 0.3
    np.testing.assert_allclose(global_weights.std(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(weights.mean(axis=0), global_weights[0], atol=0.05)


def test_accuracy_fusion_trusts_the_more_accurate_teacher():
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=400)
    sharp = softmax(3 * np.eye(3)[y] + rng.normal(size=(400, 3)), axis=1)
    vague = softmax(np.eye(3)[y] + rng.normal(size=(400, 3)), axis=1)
    fusion = AccuracyFusion().fit(None, np.stack([vague, sharp]), y)
    # Measured accuracies: 0.645 (vague) and 0.968 (sharp); weights 0.40, 0.60.
    assert fusion.teacher_weights_[1] > fusion.teacher_weights_[0] + 0.1
    np.testing.assert_allclose(fusion.teacher_weights_,
                               fusion.accuracies_ / fusion.accuracies_.sum())


def test_accuracy_fusion_counts_sample_weight():
    y = np.array([0, 0, 1, 1])
    first = np.eye(2)[[0, 0, 0, 0]]
    second = np.eye(2)[[1, 1, 1, 1]]
    proba = np.stack([first, second])
    fusion = AccuracyFusion().fit(None, proba, y, sample_weight=[1, 1, 3, 3])
    np.testing.assert_allclose(fusion.accuracies_, [0.25, 0.75])


def test_mean_fusion_weights_are_uniform():
    proba = _random_proba(4, 30, 2, seed=0)
    fusion = MeanFusion().fit(None, proba, proba[0].argmax(axis=1))
    np.testing.assert_allclose(fusion.weights(None, proba), 0.25)
    np.testing.assert_allclose(fusion.fuse(None, proba), proba.mean(axis=0))


def test_gate_gradient_matches_finite_differences():
    rng = np.random.RandomState(0)
    n_samples, n_teachers, n_inputs = 40, 3, 5
    phi = rng.normal(size=(n_samples, n_inputs))
    log_p = np.log(rng.uniform(0.01, 1, size=(n_samples, n_teachers)))
    weight = rng.uniform(size=n_samples)
    weight /= weight.sum()
    params = rng.normal(size=n_teachers * (1 + n_inputs))
    penalties = (0.3, 0.7)
    _, grad = gate_loss(params, phi, log_p, weight, *penalties)
    step = 1e-6
    numeric = np.array([
        (gate_loss(params + step * e, phi, log_p, weight, *penalties)[0]
         - gate_loss(params - step * e, phi, log_p, weight, *penalties)[0])
        / (2 * step)
        for e in np.eye(len(params))
    ])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fusion", ["attention", "mean", "accuracy"])
def test_weights_and_fused_rows_sum_to_one(fusion):
    proba = _random_proba(3, 200, 4, seed=0)
    features = np.random.RandomState(1).normal(size=(200, 6))
    y = np.random.RandomState(2).randint(4, size=200)
    fitted = make_fusion(fusion, random_state=0).fit(features, proba, y)
    weights = fitted.weights(features, proba)
    assert weights.shape == (200, 3) and np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(fitted.fuse(features, proba).sum(axis=1), 1.0)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gate_warns_when_it_stops_before_converging(two_experts):
    X_gate, P_gate, y_gate = two_experts[0]
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        AttentionFusion(max_iter=2).fit(X_gate, P_gate, y_gate)


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_gate_is_deterministic(two_experts):
    (X_gate, P_gate, y_gate), (X_test, P_test, _) = two_experts
    first = AttentionFusion(random_state=0).fit(X_gate, P_gate, y_gate)
    second = AttentionFusion(random_state=1).fit(X_gate, P_gate, y_gate)
    np.testing.assert_array_equal(first.coef_, second.coef_)
    np.testing.assert_array_equal(first.weights(X_test, P_test),
                                  second.weights(X_test, P_test))


def test_integer_sample_weight_is_row_repetition():
    X, proba, y = _similar_teachers(60, seed=3)
    counts = np.random.RandomState(0).randint(1, 4, size=60)
    weighted = AttentionFusion().fit(X, proba, y, sample_weight=counts)
    repeated = AttentionFusion().fit(np.repeat(X, counts, axis=0),
                                     np.repeat(proba, counts, axis=1),
                                     np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-4)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-4)


def test_gate_learns_standardisation_in_fit():
    X, proba, y = _similar_teachers(100, seed=0)
    gate = AttentionFusion().fit(100 + 50 * X, proba, y)
    n_inputs = X.shape[1] + 2 * (2 + 2)
    assert gate.mean_.shape == gate.scale_.shape == (n_inputs,)
    assert gate.coef_.shape == (2, n_inputs) and gate.intercept_.shape == (2,)
    np.testing.assert_allclose(gate.mean_[:5], 100 + 50 * X.mean(axis=0))
    np.testing.assert_allclose(gate.scale_[:5], 50 * X.std(axis=0))


def test_fuse_mixes_with_global_or_per_row_weights():
    proba = _random_proba(2, 3, 2, seed=0)
    np.testing.assert_allclose(fuse([0.25, 0.75], proba),
                               0.25 * proba[0] + 0.75 * proba[1])
    per_row = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    expected = np.stack([proba[0, 0], proba[1, 1], proba[:, 2].mean(axis=0)])
    np.testing.assert_allclose(fuse(per_row, proba), expected)


_GOOD = _random_proba(2, 10, 3, seed=0)
_WITH_NAN = _GOOD.copy()
_WITH_NAN[1, 4, 2] = np.nan
_Y = np.arange(10) % 3


@pytest.mark.parametrize("proba, features, y, sample_weight, message", [
    (_GOOD[0], None, _Y, None, "shape"),
    (_WITH_NAN, None, _Y, None, "NaN"),
    (_GOOD * 1.5, None, _Y, None, "\\[0, 1\\]"),
    (_GOOD * 0.5, None, _Y, None, "sum to one"),
    (_GOOD, np.zeros((9, 2)), _Y, None, "features must have shape"),
    (_GOOD, np.full((10, 2), np.inf), _Y, None, "NaN or infinity"),
    (_GOOD, None, _Y[:9], None, "y must have shape"),
    (_GOOD, None, _Y + 1, None, "labels in 0 .. 2"),
    (_GOOD, None, _Y + 0.5, None, "integer-encoded"),
    (_GOOD, None, _Y, -np.ones(10), "non-negative"),
    (_GOOD, None, _Y, np.ones(3), "sample_weight must have shape"),
])
@pytest.mark.parametrize("fusion", ["attention", "mean", "accuracy"])
def test_bad_input_is_named(fusion, proba, features, y, sample_weight, message):
    with pytest.raises(ValueError, match=message):
        make_fusion(fusion, None).fit(features, proba, y, sample_weight)


def test_weights_refuse_a_different_set_of_teachers():
    gate = AttentionFusion().fit(None, _GOOD, _Y)
    with pytest.raises(ValueError, match="fitted on 2 teachers"):
        gate.weights(None, _random_proba(3, 10, 3, seed=1))


@pytest.mark.parametrize("weights, message", [
    ([0.5, 0.5, 0.0], "shape"),
    ([1.5, -0.5], "non-negative"),
    ([0.2, 0.2], "sum to one"),
])
def test_fuse_rejects_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        fuse(weights, _GOOD)


def test_bad_alpha_is_named():
    with pytest.raises(ValueError, match="alpha"):
        AttentionFusion(alpha=-1.0).fit(None, _GOOD, _Y)


def test_unknown_fusion_names_the_options():
    with pytest.raises(ValueError, match="'accuracy', 'attention', 'mean'"):
        make_fusion("median", random_state=0)


def test_gate_reads_its_inputs_in_blocks_with_the_same_result(monkeypatch):
    # Blocks of rows bound the gate's temporaries at large n (issue 15, item 6);
    # the statistics, the fitted gate and its weights are those of one block.
    proba = _random_proba(2, 200, 3, seed=0)
    features = np.random.RandomState(1).normal(size=(200, 4))
    y = np.random.RandomState(2).randint(3, size=200)
    weight = np.random.RandomState(3).uniform(0.5, 2.0, size=200)
    whole = AttentionFusion(random_state=0).fit(features, proba, y, weight)
    monkeypatch.setattr(_gate, "BLOCK_ROWS", 7)
    raw = np.random.RandomState(4).normal(size=(200, 5))
    mean, std = _gate.weighted_mean_std(raw, weight)
    np.testing.assert_allclose(mean, np.average(raw, axis=0, weights=weight))
    np.testing.assert_allclose(
        std, np.sqrt(np.average((raw - mean) ** 2, axis=0, weights=weight)))
    blocks = AttentionFusion(random_state=0).fit(features, proba, y, weight)
    np.testing.assert_allclose(blocks.mean_, whole.mean_)
    np.testing.assert_allclose(blocks.coef_, whole.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(blocks.weights(features, proba),
                               whole.weights(features, proba), atol=1e-9)


def test_the_gate_never_builds_its_inputs_for_every_row_at_once(monkeypatch):
    """Weights a block at a time; with one teacher, no inputs beyond one row."""
    monkeypatch.setattr(_gate, "BLOCK_ROWS", 7)
    built = []
    original = AttentionFusion._gate_inputs

    def spy(features, proba):
        built.append(len(features))
        return original(features, proba)

    monkeypatch.setattr(AttentionFusion, "_gate_inputs", staticmethod(spy))
    features = np.random.RandomState(1).normal(size=(50, 4))
    y = np.random.RandomState(2).randint(3, size=50)
    two = AttentionFusion(random_state=0).fit(features, _random_proba(2, 50, 3, 0), y)
    built.clear()
    two.weights(features, _random_proba(2, 50, 3, 0))
    assert max(built) == 7 and sum(built) == 50
    built.clear()
    one = AttentionFusion(random_state=0).fit(features, _random_proba(1, 50, 3, 0), y)
    np.testing.assert_array_equal(one.weights(features, _random_proba(1, 50, 3, 0)),
                                  np.ones((50, 1)))
    assert built == [1]
    assert one.coef_.shape == (1, 4 + 3 + 2) and one.n_iter_ == 0
