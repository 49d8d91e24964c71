"""``python -m skdistill``: plain help, a version, a demo that names its student."""

import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

import skdistill
from skdistill.__main__ import main


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "demo" in text and "``" not in text


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"skdistill {skdistill.__version__}"


def test_the_demo_names_the_student_it_chose(monkeypatch, capsys):
    distiller = skdistill.HPMDistiller

    def fast(random_state):
        return distiller(
            HistGradientBoostingClassifier(max_iter=5, random_state=0),
            student="tree", augment=None, cv=2, random_state=random_state)

    monkeypatch.setattr(skdistill, "HPMDistiller", fast)
    main(["demo"])
    assert "chose the student TreeStudent" in capsys.readouterr().out


def test_the_regression_demo_prints_the_regression_report(monkeypatch, capsys):
    from sklearn.ensemble import HistGradientBoostingRegressor

    regressor = skdistill.HPMRegressor

    def fast(teachers, random_state):
        return regressor(
            HistGradientBoostingRegressor(max_iter=5, random_state=0),
            student="tree", augment=None, cv=2, random_state=random_state)

    monkeypatch.setattr(skdistill, "HPMRegressor", fast)
    main(["demo", "--task", "regression"])
    out = capsys.readouterr().out
    assert out.startswith("diabetes: 331 training rows")
    assert "student: TreeRegressionStudent" in out
    assert "RegressionReport(" in out and "test R²: teacher" in out


@pytest.mark.slow  # the real demo: the default regressor's whole fit
def test_the_regression_demo_runs_as_shipped(capsys):
    fitted = main(["demo", "--task", "regression"])
    out = capsys.readouterr().out
    assert fitted == 0 and "test R²: teacher" in out and "student R²" in out
