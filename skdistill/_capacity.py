"""Capacity of a student before it is fitted: the one definition.

Capacity is counted as the report counts a fitted model's size (see
:mod:`skdistill.metrics`): weights and biases of a network or a linear model, the
most nodes a tree or a booster's trees may grow. The configuration's size budget,
the ranker's description of a candidate and the progressive chain's geometric
sizes all read it from here.
"""

from .students import REGRESSION_STUDENT_FAMILIES, STUDENT_FAMILIES
from .students._embeddings import embedded_width, embedding_parameters

# The family of each student class, classification's and regression's: a
# regression student has the capacity of its twin with one output.
_FAMILY_OF_CLASS = {cls: family
                    for families in (STUDENT_FAMILIES, REGRESSION_STUDENT_FAMILIES)
                    for family, cls in families.items()}


def student_family(student):
    """The family name of a student of a known class (either task's), else None."""
    return _FAMILY_OF_CLASS.get(type(student))


def mlp_parameters(n_inputs, hidden_layer_sizes, n_outputs, numeric_embedding=None):
    """Weights and biases of a fully connected network, with those of its
    numeric embedding (``MLPStudent``'s ``numeric_embedding``)."""
    widths = (embedded_width(numeric_embedding, n_inputs), *hidden_layer_sizes,
              n_outputs)
    return (embedding_parameters(numeric_embedding, n_inputs)
            + sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True)))


def student_capacity(student, n_inputs, n_classes):
    """Most learned parameters (weights, or tree nodes) a student can have.

    Parameters
    ----------
    student : estimator
        An unfitted (or fitted) student of a known family.
    n_inputs : int
        Width of the preprocessed rows the student reads.
    n_classes : int
        Number of classes (outputs: 1 for a regression student).

    Returns
    -------
    float or None
        ``None`` for a tree without ``max_depth`` or ``max_leaf_nodes`` (no
        bound) and for a student of an unknown family.
    """
    params = student.get_params(deep=False)
    trees_per_round = n_classes if n_classes > 2 else 1
    family = student_family(student)
    if family == "mlp":
        return float(mlp_parameters(n_inputs, tuple(params["hidden_layer_sizes"]),
                                    n_classes, params.get("numeric_embedding")))
    if family == "tree":
        bounds = []
        if params["max_depth"] is not None:
            bounds.append(2 ** (params["max_depth"] + 1) - 1)
        if params["max_leaf_nodes"] is not None:
            bounds.append(2 * params["max_leaf_nodes"] - 1)
        return float(min(bounds)) if bounds else None
    if family == "lgbm":
        return float(params["n_estimators"] * (2 * params["num_leaves"] - 1)
                     * trees_per_round)
    if family == "xgb":
        return float(params["n_estimators"] * (2 ** (params["max_depth"] + 1) - 1)
                     * trees_per_round)
    if family == "linear":
        return float(n_classes * (n_inputs + 1))
    return None
