"""skdistill: knowledge distillation for tabular data, scikit-learn compatible."""

from ._distiller import HPMDistiller
from ._memory import OptimizationMemory
from ._temperature import AdaptiveTemperature, AnnealingTemperature
from .exceptions import SkdistillWarning
from .report import DistillationReport
from .students import (
    LGBMStudent,
    LinearStudent,
    MLPStudent,
    TreeStudent,
    XGBStudent,
)

__version__ = "0.1.0"

__all__ = [
    "AdaptiveTemperature",
    "AnnealingTemperature",
    "DistillationReport",
    "HPMDistiller",
    "LGBMStudent",
    "LinearStudent",
    "MLPStudent",
    "OptimizationMemory",
    "SkdistillWarning",
    "TreeStudent",
    "XGBStudent",
    "__version__",
]
