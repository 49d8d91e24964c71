"""A teacher that is right only on the rows it was fitted on."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class RightOnlyOnItsRows(ClassifierMixin, BaseEstimator):
    """Right on the rows it was fitted on, the other class anywhere else (the
    truth being ``x0 + x1 > 0``)."""

    def fit(self, X, y):
        self.rows_ = {row.tobytes(): label for row, label in zip(X, y, strict=True)}
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        truth = (X[:, 0] + X[:, 1] > 0).astype(int)
        labels = [self.rows_.get(row.tobytes(), 1 - t) for row, t in zip(
            np.asarray(X), truth, strict=True)]
        return np.eye(2)[labels]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
