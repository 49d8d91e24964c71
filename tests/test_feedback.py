"""Feedback while a fit runs: the phases logged, the bars of ``verbose``."""

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from skdistill import HPMDistiller, MLPStudent
from skdistill.__main__ import _phases_printed

PHASES = {"teachers", "soft_targets", "fusion", "configuration", "augment",
          "student", "report", "final_rows"}


def _student():
    return MLPStudent(hidden_layer_sizes=(8,), max_epochs=5, random_state=0)


def test_the_log_names_every_phase_with_its_duration(binary_data, caplog):
    X, y = binary_data
    teacher = LogisticRegression().fit(X, y)
    distiller = HPMDistiller(teacher, search_budget=3, augment="auto",
                             random_state=0)
    with caplog.at_level(logging.INFO, logger="skdistill"):
        distiller.fit(X, y)
    phases = [r for r in caplog.records if r.levelno == logging.INFO
              and getattr(r, "phase", None) in PHASES]
    assert {r.phase for r in phases} == PHASES
    assert all(r.name.startswith("skdistill") and r.seconds >= 0
               and r.getMessage().endswith(" s") for r in phases)
    rungs = [r for r in caplog.records if getattr(r, "phase", None) == "search_rung"]
    searched = distiller.report_.details["candidates"]
    assert rungs and {r.rung for r in rungs} == {e["rung"] for e in searched}
    assert distiller.report_.timings_s == {
        r.phase: r.seconds for r in phases if r.phase != "report"}


def test_nothing_shows_at_verbose_zero_and_verbose_changes_nothing(
        binary_data, fast_teacher, capsys):
    X, y = binary_data
    quiet = HPMDistiller(fast_teacher, _student(), random_state=0).fit(X, y)
    assert capsys.readouterr() == ("", "")
    loud = HPMDistiller(fast_teacher, _student(), verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "skdistill" in err and "7/7" in err  # one bar over the seven phases
    assert "epoch" not in err  # the epochs' bar comes with verbose=2
    np.testing.assert_array_equal(quiet.predict_proba(X), loud.predict_proba(X))


def test_verbose_two_adds_the_search_bar(binary_data, capsys):
    X, y = binary_data
    teacher = LogisticRegression().fit(X, y)
    HPMDistiller(teacher, search_budget=3, augment=None, verbose=2,
                 random_state=0).fit(X, y)
    assert "search:   0%" in capsys.readouterr().err


def test_verbose_two_adds_the_final_students_epoch_bar(binary_data, fast_teacher,
                                                       capsys):
    X, y = binary_data
    HPMDistiller(fast_teacher, _student(), augment=None, verbose=2,
                 random_state=0).fit(X, y)
    assert "5/5 [" in capsys.readouterr().err  # the student's five epochs


def test_the_demo_prints_the_phases_as_they_end(binary_data, fast_teacher, capsys):
    X, y = binary_data
    with _phases_printed():
        HPMDistiller(fast_teacher, _student(), random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "final student:" in out and "HPMDistiller fitted in" in out
    # the handler goes with the block
    HPMDistiller(fast_teacher, _student(), random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""
