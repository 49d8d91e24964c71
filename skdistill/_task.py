"""What a distillation's steps need to know about the task, behind one object.

Every step of a fit (the teachers' outputs, the fusion, the splits, the
configuration search, the augmentation and chain checks, the report) works on
*outputs*: an array of shape ``(n_samples, n_outputs)`` per teacher, fused into
the student's targets. What those outputs are, how a prediction is read from
them, how predictions are scored and how rows are stratified is the task's: the
steps ask the task object and never assume class probabilities.

:class:`ClassificationTask` is the one :class:`~skdistill.HPMDistiller` uses:
outputs are class probabilities, a prediction is the most probable class, the
score is accuracy, and rows are stratified by class. A regression task
implements the same methods (outputs of width one, the prediction the output
itself, R² as the score, strata by quantile).
"""

import numpy as np

from ._fusion import make_fusion
from ._teachers import (
    check_teacher_classes,
    check_teacher_methods,
    encoded_if_needed,
    teacher_proba,
)
from .metrics import fidelity


class ClassificationTask:
    """Classification: class probabilities as outputs, scored by accuracy.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The labels, sorted: the order of every output's columns.
    """

    kind = "classification"

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def __repr__(self):
        return f"ClassificationTask(n_classes={len(self.classes)})"

    @property
    def n_outputs(self):
        """Width of a teacher's outputs: the number of classes."""
        return len(self.classes)

    def cache_key(self):
        """What the teachers' outputs depend on besides the teachers and rows."""
        return self.classes

    def teacher_to_fit(self, teacher, y):
        """The unfitted teacher as it is fitted on ``y``: on labels coded
        ``0 .. k-1`` where they are anything else (``EncodedLabelsClassifier``)."""
        return encoded_if_needed(teacher, y)

    def teacher_outputs(self, teacher, X):
        """One teacher's probabilities on ``X``, columns following ``classes``."""
        return teacher_proba(teacher, X, self.classes)

    def serving_method(self, student):
        """The fitted student's method that gives its outputs: ``predict_proba``."""
        return student.predict_proba

    def check_teachers(self, teachers, names=None):
        """Raise, naming the teacher, unless each can label rows with
        probabilities of the task's classes (and fitted ones know only them);
        a regressor is refused."""
        check_teacher_methods(teachers, names)
        check_teacher_classes(teachers, self.classes)

    def predictions(self, outputs):
        """The labels that outputs of shape (n_samples, n_classes) predict."""
        return self.classes[np.asarray(outputs).argmax(axis=1)]

    def score(self, y_true, y_pred):
        """Accuracy: higher is better."""
        return float(np.mean(np.asarray(y_pred) == np.asarray(y_true)))

    def agreement(self, y_pred, teacher_pred):
        """Fidelity: how often the student predicts what the teachers predict."""
        return fidelity(y_pred, teacher_pred)

    def strata(self, y):
        """What splits keep in proportion: the classes."""
        return y

    def encode(self, y):
        """What the fusion learns against: labels coded ``0 .. n_classes - 1``."""
        return np.searchsorted(self.classes, y)

    def make_fusion(self, name, seed):
        """The fusion of probability vectors called ``name``, unfitted."""
        return make_fusion(name, seed)

    def target_meta(self, y, outputs):
        """The task's meta-features for the configuration's ranker.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            The labels of the training rows.
        outputs : ndarray of shape (n_teachers, n_samples, n_classes)
            The teachers' out-of-fold probabilities on those rows.

        Returns
        -------
        dict
            Classes, class entropy (normalised to [0, 1]), and the accuracy, mean
            top probability and mean pairwise disagreement of the teachers.
        """
        n_teachers, n_rows, n_classes = outputs.shape
        shares = np.bincount(self.encode(y), minlength=n_classes) / n_rows
        shares = shares[shares > 0]
        mean = outputs.mean(axis=0)
        predicted = outputs.argmax(axis=2)
        pairs = [(i, j) for i in range(n_teachers) for j in range(i + 1, n_teachers)]
        return {
            "n_classes": int(n_classes),
            "class_entropy": float(-np.sum(shares * np.log(shares))
                                   / np.log(n_classes)),
            "teacher_accuracy": self.score(y, self.predictions(mean)),
            "teacher_confidence": float(np.mean(mean.max(axis=1))),
            "teacher_disagreement": float(np.mean(
                [np.mean(predicted[i] != predicted[j]) for i, j in pairs]) if pairs
                else 0.0),
        }
