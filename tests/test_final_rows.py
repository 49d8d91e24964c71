"""final_rows="all" (issue 14, lever 2): every labelled row reaches the served
student, while the report still describes the student fitted without the
validation rows."""

import gc
import weakref

import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

from skdistill import (
    HPMDistiller,
    HPMRegressor,
    TreeRegressionStudent,
    TreeStudent,
    XGBStudent,
    _base,
    _chain,
)
from skdistill._teacher_outputs import PROCESS_COPIES
from skdistill.exceptions import SkdistillWarning

X, y = make_classification(n_samples=400, n_features=6, n_informative=4,
                           random_state=0)
TEACHER = RandomForestClassifier(n_estimators=30, random_state=0,
                                 n_jobs=1).fit(X[:200], y[:200])


def _distil(final_rows, **params):
    params = {"augment": None, **params}
    return HPMDistiller(TEACHER, student=TreeStudent(max_depth=4, random_state=0),
                        prefit_teachers="as_is", final_rows=final_rows,
                        random_state=0, n_jobs=1, **params).fit(X[200:], y[200:])


def _rows_seen(distiller):
    return int(distiller.student_[-1].tree_model_.tree_.n_node_samples[0])


@pytest.fixture(scope="module")
def train_and_all():
    return _distil("train"), _distil("all")


def test_all_rows_train_the_served_student(train_and_all):
    train, every = train_and_all
    assert _rows_seen(train) == 160  # 200 rows less the validation fifth
    assert _rows_seen(every) == 200
    details = every.report_.details["final_rows"]
    assert details["refit"] and details["n_real_rows"] == 200
    assert "without the validation rows" in details["report"]
    assert train.report_.details["final_rows"] == {"final_rows": "train",
                                                   "refit": False}
    assert not np.array_equal(train.predict_proba(X[:200]),
                              every.predict_proba(X[:200]))


def test_the_report_is_the_one_of_final_rows_train(train_and_all):
    train, every = train_and_all
    for name in ("student_accuracy", "teacher_accuracy", "fidelity",
                 "n_validation"):
        assert getattr(every.report_, name) == getattr(train.report_, name)


def test_munge_rows_of_the_refit_come_from_every_row():
    every = _distil("all", augment="munge", augment_ratio=2.0)
    details = every.report_.details["final_rows"]
    assert every.report_.details["n_synthetic_rows"] == 320  # 2 x 160
    assert details["n_synthetic_rows"] == 400  # 2 x 200
    assert _rows_seen(every) == 600


def test_given_validation_rows_never_train():
    every = HPMDistiller(TEACHER, student=TreeStudent(max_depth=4),
                         prefit_teachers="as_is", augment=None, final_rows="all",
                         random_state=0, n_jobs=1).fit(
        X[200:300], y[200:300], X_val=X[300:], y_val=y[300:])
    assert _rows_seen(every) == 100
    assert not every.report_.details["final_rows"]["refit"]


def test_time_limit_skips_the_refit(monkeypatch):
    monkeypatch.setattr(_base.TimeBudget, "allows", lambda self, seconds: False)
    every = _distil("all")
    assert every.report_.details["final_rows"]["reason"] == "time_limit"
    assert _rows_seen(every) == 160


def test_the_regressor_refits_on_every_row():
    Xr, yr = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    teacher = RandomForestRegressor(n_estimators=20, random_state=0).fit(Xr, yr)
    fits = [HPMRegressor(teacher, student="tree", prefit_teachers="as_is",
                         augment=None, final_rows=rows, random_state=0,
                         n_jobs=1).fit(Xr, yr) for rows in ("train", "all")]
    assert fits[0].report_.student_r2 == fits[1].report_.student_r2
    assert fits[1].report_.details["final_rows"]["n_real_rows"] == 300
    assert not np.array_equal(fits[0].predict(Xr), fits[1].predict(Xr))


@pytest.mark.parametrize("params", [{"final_rows": "every"},
                                    {"augment_ratio": "best"},
                                    {"augment_ratio": -1.0}])
def test_bad_values_are_rejected_before_any_work(monkeypatch, params):
    def teachers_ran(*args, **kwargs):
        raise AssertionError("the teachers ran before the error")

    monkeypatch.setattr(_base, "teacher_outputs", teachers_ran)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        HPMDistiller(LogisticRegression(), student="tree", **params).fit(X, y)


def test_the_rows_come_in_the_students_dtype_without_the_training_inputs(
        monkeypatch):
    # The memory bound at large data: the refit's stacked rows are built in the
    # dtype the student computes in (no second copy inside its fit), and the
    # transfer set's own inputs are released before the refit runs.
    seen = {}
    build, refit = _base.BaseDistiller._final_rows_set, \
        _base.BaseDistiller._refit_on_every_row

    def spy_build(self, *args):
        transfer = args[5]
        seen["training_Z"] = weakref.ref(transfer.Z)
        # Converted once the student was configured, not by each of its fits.
        seen["training_dtype"] = transfer.Z.dtype
        return build(self, *args)

    def spy_refit(self, all_rows, *args):
        gc.collect()
        seen["alive"] = seen["training_Z"]() is not None
        seen["dtype"] = all_rows.Z.dtype
        return refit(self, all_rows, *args)

    monkeypatch.setattr(_base.BaseDistiller, "_final_rows_set", spy_build)
    monkeypatch.setattr(_base.BaseDistiller, "_refit_on_every_row", spy_refit)
    every = _distil("all")
    assert seen == {"training_Z": seen["training_Z"], "alive": False,
                    "dtype": np.float32, "training_dtype": np.float32}
    assert _rows_seen(every) == 200


@pytest.mark.parametrize("student", [TreeStudent(max_depth=4, random_state=0),
                                     XGBStudent(n_estimators=5, random_state=0),
                                     TreeRegressionStudent(max_depth=4,
                                                           random_state=0)])
def test_float32_inputs_change_nothing_for_students_that_compute_in_float32(
        student):
    fitted = [clone(student).fit(X.astype(dtype), y)
              for dtype in (np.float64, np.float32)]
    predict = "predict" if is_regressor(student) else "predict_proba"
    assert student._input_dtype == np.float32
    np.testing.assert_array_equal(getattr(fitted[0], predict)(X),
                                  getattr(fitted[1], predict)(X))


def test_the_report_measures_the_augmentation_checks_fit(monkeypatch):
    # With augment="auto" the check already fitted the configured student,
    # without the validation rows (and the selection rows): the report measures
    # that fit instead of fitting the student once more, and the served
    # student, refitted on every row, is the same.
    fits = []
    real_fit_chain = _chain.fit_chain

    def counted(*args, **kwargs):
        fits.append(1)
        return real_fit_chain(*args, **kwargs)

    monkeypatch.setattr(_chain, "fit_chain", counted)

    def distil():
        fits.clear()
        fitted = _distil("all", augment="auto", augment_ratio=2.0)
        return fitted, len(fits)

    reused, n_reused = distil()
    monkeypatch.setattr(_base.BaseDistiller, "_report_student_from_check",
                        lambda self, *args: None)
    fitted, n_fitted = distil()
    assert n_reused == n_fitted - 1
    details = reused.report_.details["final_rows"]
    assert "augmentation check's fit" in details["report_student"]
    assert "report_student" not in fitted.report_.details["final_rows"]
    np.testing.assert_array_equal(reused.predict_proba(X), fitted.predict_proba(X))
    # the same validation rows measure both reports
    assert reused.report_.n_validation == fitted.report_.n_validation
    assert reused.report_.teacher_accuracy == fitted.report_.teacher_accuracy


def test_a_refit_the_time_left_cannot_pay_keeps_the_fitted_student(monkeypatch):
    # When the refit on every row will not run, the report's (and served)
    # student is fitted on every training row as before, not the check's fit
    # on fewer rows.
    skipped = {"final_rows": "all", "refit": False, "reason": "time_limit"}
    monkeypatch.setattr(_base.BaseDistiller, "_final_rows_skipped",
                        lambda self, *args, **kwargs: skipped)
    every = _distil("all", augment="auto", augment_ratio=2.0)
    details = every.report_.details
    assert "accuracy_without" in details["configuration"]["augmentation_check"]
    assert details["final_rows"] == skipped
    # 160 real rows, and twice as many MUNGE rows if the check chose them
    assert _rows_seen(every) in (160, 480)


@pytest.mark.parametrize("estimator", [HPMDistiller, HPMRegressor])
def test_validation_rows_of_a_memorising_prefit_teacher_come_from_its_copies(
        monkeypatch, estimator):
    # A deep tree prefit on every row answers each validation row with its own
    # (noisy) label; the served student's refit must learn those rows from
    # copies that never saw them, as it learns the training rows out of fold.
    regression = estimator is HPMRegressor
    make = make_regression if regression else make_classification
    noise = {"noise": 30.0} if regression else {"flip_y": 0.2}
    X_all, y_all = make(n_samples=600, n_features=6, random_state=0, **noise)
    tree = (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
        random_state=0).fit(X_all, y_all)
    built, build = [], _base.rows_with_validation

    def spy(*args):
        built.append(build(*args))
        return built[-1]

    monkeypatch.setattr(_base, "rows_with_validation", spy)
    student = (TreeRegressionStudent if regression else TreeStudent)(
        max_depth=4, random_state=0)
    with pytest.warns(SkdistillWarning, match="with the cross-fitted copies "
                      r"\(which never saw these rows\)"):
        fitted = estimator(FrozenEstimator(tree), student=student, augment=None,
                           random_state=0, n_jobs=1).fit(X_all, y_all)
    (checks,) = fitted.report_.details["prefit_checks"].values()
    assert checks["cross_fitted"]
    n_valid = fitted.report_.n_validation
    targets = built[0].targets[-n_valid:]
    own = built[0].y[-n_valid:]  # the validation rows' labels
    if regression:
        assert np.abs(targets.ravel() - own).mean() > 10.0
    else:
        agreement = np.mean(targets.argmax(axis=1) == own)
        assert 0.5 < agreement < 0.95
    assert "through their copies, which never saw them" in fitted.report_.details[
        "final_rows"]["report"]
    # The report: the tree is perfect on rows it saw; its copies are not.
    report = fitted.report_
    honest = report.details["teachers_out_of_sample"][report.score_key]
    assert report.teacher_accuracy == 1.0 and honest < 0.95
    retention = report.details["teachers_out_of_sample"]["retention"]
    assert retention == pytest.approx(report.student_accuracy / honest)
    assert retention > report.retention
    assert f"copies (out of sample)  {honest:.4f} (retention {retention:.2%})" \
        in repr(report)


def test_no_out_of_sample_score_without_a_memorising_prefit_teacher(
        train_and_all):
    for fitted in train_and_all:  # prefit_teachers="as_is": no copies
        assert "teachers_out_of_sample" not in fitted.report_.details
        assert "copies" not in repr(fitted.report_)


def test_a_prefit_teacher_used_as_it_is_labels_the_validation_rows_itself():
    # prefit_teachers="as_is": nothing is cross-fitted, no copy is kept, and the
    # report says the prefit teacher labelled those rows as it is.
    PROCESS_COPIES.clear()
    fitted = _distil("all")  # TEACHER prefit, prefit_teachers="as_is"
    assert len(PROCESS_COPIES._entries) == 0
    label = fitted.report_.details["final_rows"]["report"]
    assert "by the prefit teachers as they are" in label
    assert "copies" not in label and "never saw" not in label
