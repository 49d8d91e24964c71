"""Docstring entries the students share, each written once.

A student's class docstring names a shared block on a line of its own, in braces
(``{fitted_attributes}``); :func:`with_shared_docstring` puts the block's text
there, at that line's indentation, when the class is defined. A regression
student that takes its classification twin's parameters names
``{parameters}`` and is decorated ``with_shared_docstring(parameters_of=twin)``:
the twin's Parameters entries go there.
"""

import functools
import inspect
import re

SHARED_DOCSTRINGS = {
    # Set by every student's fit (scikit-learn's conventions).
    "fitted_attributes": """\
classes_ : ndarray of shape (n_classes,)
    Class labels, in the column order of ``predict_proba``.
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Feature names seen during ``fit``, when ``X`` has string column names.""",
    # Set by every regression student's fit (BaseRegressionStudent).
    "regression_attributes": """\
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Feature names seen during ``fit``, when ``X`` has string column names.
target_mean_, target_scale_ : float
    Weighted mean and standard deviation of the target the student learned;
    it learned ``(target - target_mean_) / target_scale_`` and ``predict``
    scales back.""",
    # The students fitted on one target distribution (BaseStudent.fit).
    "temperature_attribute": """\
temperature_ : float
    Temperature the targets were softened with; ``predict_proba`` sharpens
    back by it.""",
    # The boosted students' loss on the soft targets.
    "booster_distill_loss": """\
distill_loss : {"kl", "logit_mse"}, default="kl"
    How the soft targets are learned: the soft cross-entropy with the
    target distribution (the KL divergence up to a constant; see Notes), or
    ``"logit_mse"``, fitting the teachers' margins: ``alpha`` times the
    mean squared difference between the raw scores and the teachers'
    log-probabilities (floored at ``log(1e-4)``), both centred per row, plus
    ``1 - alpha`` times the cross-entropy with the labels
    (:func:`logit_squared_error_grad_hess`, a custom objective). It does not
    use the temperature (``temperature_`` is 1).""",
    # The boosted students: a temperature per round, and a prior to start from.
    "booster_attributes": """\
temperature_ : float
    Temperature the targets were softened with (with a scheduler: that of
    the last round); ``predict_proba`` sharpens back by it.
temperature_history_ : list of float
    The temperature of each boosting round, ``n_estimators_`` values.
init_score_ : ndarray of shape (1,) or (n_classes,)
    Starting raw score (margin): the logit of the positive class's weighted
    mean target (binary), or the log of the weighted mean target (multiclass).""",
}

_MARKER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>\w+)\}[ \t]*$")


def parameters_section(cls):
    """The entries of the Parameters section of ``cls``'s docstring, dedented."""
    lines = inspect.cleandoc(cls.__doc__ or "").split("\n")
    start = lines.index("Parameters") + 2
    end = start
    while end < len(lines) and not (
            end + 1 < len(lines) and set(lines[end + 1]) == {"-"}):
        end += 1
    return "\n".join(lines[start:end]).rstrip()


def with_shared_docstring(cls=None, *, parameters_of=None):
    """Class decorator: each ``{name}`` line of the docstring becomes its block.

    Parameters
    ----------
    cls : type
        A class whose docstring may hold lines such as ``{fitted_attributes}``,
        each naming a key of ``SHARED_DOCSTRINGS``.
    parameters_of : type, default=None
        A class whose Parameters entries fill a ``{parameters}`` line (a
        student that takes its twin's parameters).

    Returns
    -------
    type
        ``cls``, its ``__doc__`` filled in; unchanged when it has no docstring
        (``python -OO``).

    Raises
    ------
    KeyError
        For a line in braces that names no shared block.
    """
    if cls is None:
        return functools.partial(with_shared_docstring, parameters_of=parameters_of)
    if cls.__doc__ is None:
        return cls
    blocks = dict(SHARED_DOCSTRINGS)
    if parameters_of is not None and parameters_of.__doc__ is not None:
        blocks["parameters"] = parameters_section(parameters_of)
    lines = []
    for line in cls.__doc__.split("\n"):
        marker = _MARKER.match(line)
        if marker is None:
            lines.append(line)
            continue
        indent = marker["indent"]
        block = blocks[marker["name"]]
        lines += [indent + text if text else text for text in block.split("\n")]
    cls.__doc__ = "\n".join(lines)
    return cls
