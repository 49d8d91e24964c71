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


def test_adaptive_holds_while_the_gap_closes_and_sharpens_when_it_stalls():
    closing = _run(AdaptiveTemperature(start=3.0, decay=0.5), [1.0, 0.5, 0.2, 0.1])
    stalling = _run(AdaptiveTemperature(start=3.0, decay=0.5), [1.0, 0.5, 0.5, 0.6])
    np.testing.assert_allclose(closing, 3.0)
    np.testing.assert_allclose(stalling, [3.0, 3.0, 3.0, 2.0, 1.5])
    assert not np.allclose(stalling, as_scheduler(3.0))


def test_adaptive_progress_is_relative_to_the_best_gap():
    # 0.995 is within tol=1 % of the best gap 1.0: no progress, sharpen.
    temperatures = _run(AdaptiveTemperature(start=2.0, decay=0.5, tol=0.01),
                        [1.0, 0.995, 0.5])
    np.testing.assert_allclose(temperatures, [2.0, 2.0, 1.5, 1.5])


def test_adaptive_restarts_on_each_fit():
    schedule = AdaptiveTemperature()
    first = _run(schedule, [1.0, 1.0, 0.1])
    second = _run(schedule, [1.0, 1.0, 0.1])
    np.testing.assert_allclose(first, second)
    assert first[-1] < first[0]


def test_anneal_decays_towards_one_whatever_the_gap():
    temperatures = _run(AnnealingTemperature(start=5.0, decay=0.5), [9.0, 9.0, 9.0])
    np.testing.assert_allclose(temperatures, [5.0, 3.0, 2.0, 1.5])


@pytest.mark.parametrize("schedule", [AnnealingTemperature(start=0.5),
                                      AdaptiveTemperature(decay=1.0),
                                      AdaptiveTemperature(tol=-0.1)])
def test_bad_schedule_settings_are_rejected(schedule):
    with pytest.raises(ValueError):
        schedule.initial()


def test_as_scheduler_copies_objects_and_names_schedules():
    schedule = AdaptiveTemperature(start=3.0)
    assert as_scheduler(schedule) is not schedule
    assert isinstance(as_scheduler("anneal"), AnnealingTemperature)
    assert as_scheduler(2) == 2.0
