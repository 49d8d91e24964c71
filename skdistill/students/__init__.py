"""Compact students that learn from the teachers' soft targets."""

from ._boosters import LGBMStudent, XGBStudent
from ._linear import LinearStudent
from ._mlp import MLPStudent
from ._tree import TreeStudent

STUDENT_FAMILIES = {
    "mlp": MLPStudent,
    "tree": TreeStudent,
    "lgbm": LGBMStudent,
    "xgb": XGBStudent,
    "linear": LinearStudent,
}

__all__ = [
    "LGBMStudent",
    "LinearStudent",
    "MLPStudent",
    "STUDENT_FAMILIES",
    "TreeStudent",
    "XGBStudent",
]
