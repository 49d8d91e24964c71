"""augment_ratio="auto" (issue 14, lever 3): the MUNGE ratio chosen on the
selection rows, its synthetic rows made in chunks, the MLP's epochs capped."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from skdistill import HPMDistiller, MLPStudent, TreeStudent, _augment
from skdistill._augment import (
    MAX_SYNTHETIC_ROWS,
    iter_munge,
    munge,
    ratio_ladder,
    step_capped,
)

X, y = make_classification(n_samples=700, n_features=6, n_informative=4,
                           random_state=0)
TEACHER = RandomForestClassifier(n_estimators=30, random_state=0,
                                 n_jobs=1).fit(X[:200], y[:200])


def _distil(augment, student=None, **params):
    student = MLPStudent((8,), max_epochs=20, random_state=0) if student is None \
        else student
    return HPMDistiller(TEACHER, student=student,
                        prefit_teachers="as_is", augment=augment,
                        augment_ratio="auto", random_state=0, n_jobs=1,
                        **params).fit(X[200:], y[200:])


def test_a_tree_student_takes_the_fixed_ratio_under_auto():
    # the ladder is for networks: a tree gained nothing from more of the
    # teachers' rows (HPMRegressor's LightGBM lost on 4 of 5 datasets with it)
    tree = TreeStudent(max_depth=5, random_state=0)
    munge_rows = _distil("munge", student=tree)
    details = munge_rows.report_.details
    assert "augment_ratio_check" not in details["configuration"]
    assert details["n_synthetic_rows"] == 4 * 400
    checked = _distil("auto", student=tree).report_.details["configuration"]
    assert "augment_ratio_check" not in checked
    assert checked["augmentation_check"]["n_synthetic_rows"] == 4 * 320


def test_auto_picks_a_ratio_of_the_ladder_and_records_its_curve():
    fitted = _distil("munge")
    check = fitted.report_.details["configuration"]["augment_ratio_check"]
    assert set(check["curve"]) == {"4", "16", "64"}
    assert check["curve"][f"{check['chosen']:g}"] == max(check["curve"].values())
    assert fitted.report_.details["n_synthetic_rows"] == check["chosen"] * 400


def test_with_augment_auto_no_synthetic_rows_is_a_candidate(monkeypatch):
    monkeypatch.setattr(_augment, "ratio_ladder", lambda n: [4.0])
    fitted = _distil("auto")
    check = fitted.report_.details["configuration"]["augment_ratio_check"]
    assert set(check["curve"]) == {"none", "4"}
    assert check["chosen"] in (None, 4.0)
    expected = 0 if check["chosen"] is None else 1600
    assert fitted.report_.details["n_synthetic_rows"] == expected


def test_the_ladder_keeps_the_synthetic_rows_under_the_cap():
    assert ratio_ladder(1000) == [4.0, 16.0, 64.0]
    assert ratio_ladder(10_000) == [4.0, 16.0]
    assert max(ratio_ladder(10_000)) * 10_000 <= MAX_SYNTHETIC_ROWS
    assert ratio_ladder(10**6) == [4.0]


def test_many_synthetic_rows_cap_the_epochs_not_the_steps():
    student = MLPStudent(max_epochs=200, batch_size=100)
    assert step_capped(student, 1000, 5000) is student  # ratio 4: unchanged
    capped = step_capped(student, 1000, 17_000)  # ratio 16
    assert capped.max_epochs == int(200 * 5000 / 17_000)
    assert step_capped(student, 1000, 65_000).max_epochs == _augment.MIN_EPOCHS
    tree = TreeStudent()
    assert step_capped(tree, 1000, 65_000) is tree


def test_auto_epochs_are_capped_at_the_steps_of_the_budget_rows():
    # max_epochs="auto" on 5,000 rows of 100: 320 epochs (16,000 steps); at
    # ratio 16 the same steps over 17,000 rows
    student = MLPStudent(batch_size=100)
    assert step_capped(student, 1000, 5000) is student
    assert step_capped(student, 1000, 17_000).max_epochs == int(320 * 5000 / 17_000)


def test_chunked_rows_are_the_one_shot_rows_and_a_prefix_of_more():
    # ratio_check makes the largest ratio's rows once and slices the others.
    one_shot = munge(X[:300], 4000, random_state=3)
    chunks = list(iter_munge(X[:300], 4000, random_state=3, chunk_size=700))
    assert max(len(c) for c in chunks) == 700
    np.testing.assert_array_equal(np.vstack(chunks), one_shot)
    np.testing.assert_array_equal(munge(X[:300], 1200, random_state=3),
                                  one_shot[:1200])


def test_time_limit_skips_the_check_for_the_smallest_ratio(monkeypatch):
    from skdistill import _base

    monkeypatch.setattr(_base.TimeBudget, "allows", lambda self, seconds: False)
    fitted = _distil("munge")
    check = fitted.report_.details["configuration"]["augment_ratio_check"]
    assert check == {"chosen": 4.0, "curve": {}, "reason": "time_limit"}
    assert fitted.report_.details["n_synthetic_rows"] == 1600
