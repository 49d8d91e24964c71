"""``time_limit``: how much of the fit's time is left, and what was cut to keep it.

The teachers and the final student always run; the configuration search (rung by
rung), its distil-or-not check and the augmentation check run only when their
cost, estimated from the fits already measured, fits in what is left with the
final student's fit. The first rung has nothing measured to go by: it runs when at
least :data:`FIRST_RUNG_SHARE` of the limit is left.
"""

import logging
import math
import time

logger = logging.getLogger("skdistill")

FIRST_RUNG_SHARE = 0.25


class TimeBudget:
    """The time a fit may take, counted from its start.

    Parameters
    ----------
    limit_s : float or None
        Seconds; None: no limit (every check passes).
    """

    def __init__(self, limit_s):
        self.limit_s = limit_s
        self.cuts = []
        self._start = time.perf_counter()

    @property
    def active(self):
        """Whether there is a limit."""
        return self.limit_s is not None

    def elapsed(self):
        """Seconds since the fit started."""
        return time.perf_counter() - self._start

    def left(self):
        """Seconds left (infinite without a limit)."""
        return math.inf if not self.active else self.limit_s - self.elapsed()

    def allows(self, seconds):
        """Whether work estimated at ``seconds`` fits in what is left.

        ``None`` (nothing measured to estimate from) fits while at least
        :data:`FIRST_RUNG_SHARE` of the limit is left.
        """
        if not self.active:
            return True
        if seconds is None:
            return self.left() >= FIRST_RUNG_SHARE * self.limit_s
        return seconds <= self.left()

    def cut(self, what):
        """Record (and log) what was left out to stay within the limit."""
        self.cuts.append(what)
        logger.info("time_limit=%s s: %s (%.2f s left)", self.limit_s, what,
                    self.left())

    def summary(self):
        """What ``report_.details["time_limit"]`` shows; None without a limit."""
        if not self.active:
            return None
        return {"limit_s": self.limit_s, "elapsed_s": self.elapsed(),
                "cut": list(self.cuts)}


def unlimited():
    """A budget without a limit."""
    return TimeBudget(None)
