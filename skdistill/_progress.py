"""Feedback while a fit runs: the ``skdistill`` logger and the bar over its phases.

Every phase of a fit is logged at INFO on ``logging.getLogger("skdistill")``
(module loggers sit under it) with its duration; the library adds no handler
but a :class:`logging.NullHandler`, so nothing shows until the user turns
logging on (``logging.basicConfig(level=logging.INFO)``). ``verbose=1`` shows
one tqdm bar over the phases, ``verbose=2`` adds the search's bar (per rung)
and the final student's bar (per epoch or round).
"""

import logging

from tqdm.auto import tqdm

logger = logging.getLogger("skdistill")

# What each phase of a fit (a key of ``report_.timings_s``) is called in the log
# and on the bar.
PHASE_LABELS = {
    "teachers": "teachers (fitted and cross-fitted)",
    "soft_targets": "teachers' outputs on the training rows",
    "fusion": "fusion and soft targets",
    "configuration": "configuration search",
    "distillation_check": "distil-or-not check",
    "augment": "augmentation",
    "student": "final student",
    "report": "report",
    "final_rows": "student refitted on every row",
}


class PhaseBar:
    """One labelled bar over the phases of a fit; silent below ``verbose=1``.

    Parameters
    ----------
    verbose : int
        The distiller's verbosity.
    phases : list of str
        The phases the fit will go through, in order.
    """

    def __init__(self, verbose, phases):
        self.bar = tqdm(total=len(phases), desc="skdistill", unit="phase",
                        disable=verbose < 1, dynamic_ncols=True)

    def start(self, phase):
        """Show ``phase`` as the one running."""
        self.bar.set_description(f"skdistill: {label(phase)}")

    def done(self, phase, seconds):
        """Count ``phase`` as done after ``seconds``."""
        self.bar.set_postfix_str(f"{phase} {seconds:.1f}s")
        self.bar.update(1)

    def close(self):
        """Close the bar (once the fit ends, however it ends)."""
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def label(phase):
    """What ``phase`` is called in the log and on the bar."""
    return PHASE_LABELS.get(phase, phase)


def log_phase(phase, seconds):
    """Log a finished phase at INFO, with its duration."""
    logger.info("%s: %.2f s", label(phase), seconds,
                extra={"phase": phase, "seconds": seconds})
