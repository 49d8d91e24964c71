"""Compact students that learn from the teachers' soft targets."""

from ._boosters import LGBMStudent, XGBStudent
from ._linear import LinearStudent
from ._mlp import MLPStudent
from ._mlp_regression import MLPRegressionStudent
from ._regression import (
    LGBMRegressionStudent,
    LinearRegressionStudent,
    TreeRegressionStudent,
    XGBRegressionStudent,
)
from ._tree import TreeStudent

STUDENT_FAMILIES = {
    "mlp": MLPStudent,
    "tree": TreeStudent,
    "lgbm": LGBMStudent,
    "xgb": XGBStudent,
    "linear": LinearStudent,
}
# The regression students, by the same family names.
REGRESSION_STUDENT_FAMILIES = {
    "mlp": MLPRegressionStudent,
    "tree": TreeRegressionStudent,
    "lgbm": LGBMRegressionStudent,
    "xgb": XGBRegressionStudent,
    "linear": LinearRegressionStudent,
}

__all__ = [
    "LGBMRegressionStudent",
    "LGBMStudent",
    "LinearRegressionStudent",
    "LinearStudent",
    "MLPRegressionStudent",
    "MLPStudent",
    "REGRESSION_STUDENT_FAMILIES",
    "STUDENT_FAMILIES",
    "TreeRegressionStudent",
    "TreeStudent",
    "XGBRegressionStudent",
    "XGBStudent",
]
