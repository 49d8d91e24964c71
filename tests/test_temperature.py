"""Temperature schedules: what they compute and what they change."""

import numpy as np
import pytest

from skdistill._temperature import (
    AdaptiveTemperature,
    AnnealingTemperature,
    as_scheduler,
)


def _run(schedule, gaps):
    temperatures = [schedule.initial()]
    for epoch, gap in enumerate(gaps):
        temperatures.append(schedule.step(epoch, gap))
    return np.array(temperatures)


def test_adaptive_follows_the_gap_and_constant_does_not():
    closing = _run(AdaptiveTemperature(start=4.0, rate=0.5), [1.0, 0.5, 0.2, 0.1])
    stuck = _run(AdaptiveTemperature(start=4.0, rate=0.5), [1.0, 1.0, 1.0, 1.0])
    assert np.all(np.diff(closing) <= 0) and closing[-1] < 2.0
    np.testing.assert_allclose(stuck, 4.0)
    assert not np.allclose(closing, as_scheduler(4.0))


def test_adaptive_rises_again_when_the_student_drifts_away():
    temperatures = _run(AdaptiveTemperature(start=4.0, rate=1.0), [1.0, 0.25, 0.75])
    np.testing.assert_allclose(temperatures, [4.0, 4.0, 1.75, 3.25])


def test_adaptive_restarts_on_each_fit():
    schedule = AdaptiveTemperature()
    first = _run(schedule, [1.0, 0.1])
    second = _run(schedule, [1.0, 0.1])
    np.testing.assert_allclose(first, second)


def test_anneal_decays_towards_one_whatever_the_gap():
    temperatures = _run(AnnealingTemperature(start=5.0, decay=0.5), [9.0, 9.0, 9.0])
    np.testing.assert_allclose(temperatures, [5.0, 3.0, 2.0, 1.5])


@pytest.mark.parametrize("schedule", [AnnealingTemperature(start=0.5),
                                      AdaptiveTemperature(rate=0.0)])
def test_bad_schedule_settings_are_rejected(schedule):
    with pytest.raises(ValueError):
        schedule.initial()


def test_as_scheduler_copies_objects_and_names_schedules():
    schedule = AdaptiveTemperature(start=3.0)
    assert as_scheduler(schedule) is not schedule
    assert isinstance(as_scheduler("anneal"), AnnealingTemperature)
    assert as_scheduler(2) == 2.0
