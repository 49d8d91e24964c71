"""Temperature schedulers (HPM-KD component iv).

A scheduler has ``initial() -> float`` (the temperature of the first epoch) and
``step(epoch, gap) -> float`` (the temperature of the next epoch), where ``gap`` is
the measured student-teacher gap after the epoch: the mean ``KL(p_teacher ||
q_student)`` at ``T = 1`` on the student's validation rows. ``MLPStudent`` consults
it once per epoch and records the values in ``temperature_history_``.
"""

import copy
from numbers import Real

# Where a named schedule starts when nothing else says (the optimization memory will
# supply these once it exists): T = 4 is the upper end of the 2-4 range used by
# Hinton et al. (2015) and most tabular KD work.
DEFAULT_START = 4.0
DEFAULT_DECAY = 0.9
DEFAULT_RATE = 0.5


class AnnealingTemperature:
    """Temperature decaying geometrically from ``start`` towards 1.

    ``T_e = 1 + (start - 1) * decay ** e``: soft targets first, sharp ones last,
    whatever the student does.

    Parameters
    ----------
    start : float, default=4.0
        Temperature of the first epoch, >= 1.
    decay : float, default=0.9
        Factor applied each epoch to the excess over 1, in (0, 1).
    """

    def __init__(self, start=DEFAULT_START, decay=DEFAULT_DECAY):
        self.start = start
        self.decay = decay

    def initial(self):
        """Temperature of the first epoch."""
        _check_start(self.start)
        if not 0 < self.decay < 1:
            raise ValueError(f"decay must be in (0, 1); got {self.decay!r}.")
        return float(self.start)

    def step(self, epoch, gap):
        """Temperature of epoch ``epoch + 1``; the gap is not used."""
        return 1.0 + (self.start - 1.0) * self.decay ** (epoch + 1)


class AdaptiveTemperature:
    """Temperature driven by the measured student-teacher gap.

    After each epoch the temperature moves, at ``rate``, towards
    ``1 + (start - 1) * min(1, gap / first_gap)``: while the student is far from
    the teacher the targets stay soft (the whole distribution, with the relations
    between classes, is the easier thing to match); as the gap closes the targets
    sharpen towards the teacher's decisions; if the student drifts away again, the
    temperature rises with the gap.

    Parameters
    ----------
    start : float, default=4.0
        Temperature of the first epoch, >= 1.
    rate : float, default=0.5
        Fraction of the way to the target temperature moved each epoch, in (0, 1].
    """

    def __init__(self, start=DEFAULT_START, rate=DEFAULT_RATE):
        self.start = start
        self.rate = rate

    def initial(self):
        """Temperature of the first epoch; forgets any earlier training."""
        _check_start(self.start)
        if not 0 < self.rate <= 1:
            raise ValueError(f"rate must be in (0, 1]; got {self.rate!r}.")
        self._first_gap = None
        self._temperature = float(self.start)
        return self._temperature

    def step(self, epoch, gap):
        """Temperature of epoch ``epoch + 1`` from the gap measured after ``epoch``."""
        if self._first_gap is None:
            self._first_gap = max(float(gap), 1e-12)
        progress = min(1.0, float(gap) / self._first_gap)
        target = 1.0 + (self.start - 1.0) * progress
        self._temperature += self.rate * (target - self._temperature)
        return self._temperature


SCHEDULES = {"anneal": AnnealingTemperature, "adaptive": AdaptiveTemperature}


def as_scheduler(temperature):
    """Resolve HPMDistiller's ``temperature`` into a number or a scheduler object.

    Parameters
    ----------
    temperature : float, {"anneal", "adaptive"} or scheduler
        A constant, a named schedule (with its default start), or an object with
        ``initial()`` and ``step(epoch, gap)``.

    Returns
    -------
    float or scheduler
        A scheduler object is a copy, so that fitting never changes a parameter.
    """
    if isinstance(temperature, Real):
        return float(temperature)
    if isinstance(temperature, str):
        return SCHEDULES[temperature]()
    return copy.deepcopy(temperature)


def _check_start(start):
    if not isinstance(start, Real) or start < 1:
        raise ValueError(f"start must be a number >= 1; got {start!r}.")
