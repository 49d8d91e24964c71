"""The warnings skdistill gives.

Every warning of the package is a :class:`SkdistillWarning` (a ``UserWarning``),
so that one filter silences or raises them all::

    import warnings
    from skdistill.exceptions import SkdistillWarning
    warnings.simplefilter("error", SkdistillWarning)

Students that stop before converging give scikit-learn's
:class:`~sklearn.exceptions.ConvergenceWarning` instead, as scikit-learn's own
estimators do.
"""

__all__ = ["SkdistillWarning"]


class SkdistillWarning(UserWarning):
    """Base class of the warnings skdistill gives (a ``UserWarning``)."""
