"""A teacher that counts its fits and predictions, for the tests of the caches."""

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class CountingTeacher(ClassifierMixin, BaseEstimator):
    """A logistic regression counting its fits and predictions (class-wide, so
    that the counts do not change the fitted state the caches key on).

    ``random_state=None`` makes it a teacher that fits at random, which no cache
    keeps the outputs of.
    """

    calls = {"fit": 0, "predict_proba": 0}

    def __init__(self, C=1.0, random_state=0):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        type(self).calls["fit"] += 1
        self.model_ = LogisticRegression(C=self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        type(self).calls["predict_proba"] += 1
        return self.model_.predict_proba(X)

    @classmethod
    def reset_counts(cls):
        """Zero the counts; return them."""
        cls.calls.update(fit=0, predict_proba=0)
        return cls.calls
