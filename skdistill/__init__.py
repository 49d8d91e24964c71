"""skdistill: knowledge distillation for tabular data, scikit-learn compatible."""

import logging

from ._distiller import HPMDistiller
from ._memory import OptimizationMemory
from ._regressor import HPMRegressor
from ._temperature import AdaptiveTemperature, AnnealingTemperature
from .exceptions import SkdistillWarning
from .report import DistillationReport, RegressionReport
from .students import (
    LGBMRegressionStudent,
    LGBMStudent,
    LinearRegressionStudent,
    LinearStudent,
    MLPRegressionStudent,
    MLPStudent,
    TreeRegressionStudent,
    TreeStudent,
    XGBRegressionStudent,
    XGBStudent,
)

__version__ = "0.1.0"

# The library logs each phase of a fit on the "skdistill" logger; what shows is
# the application's choice (logging.basicConfig(level=logging.INFO)).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AdaptiveTemperature",
    "AnnealingTemperature",
    "DistillationReport",
    "HPMDistiller",
    "HPMRegressor",
    "LGBMRegressionStudent",
    "LGBMStudent",
    "LinearRegressionStudent",
    "LinearStudent",
    "MLPRegressionStudent",
    "MLPStudent",
    "OptimizationMemory",
    "SkdistillWarning",
    "RegressionReport",
    "TreeRegressionStudent",
    "TreeStudent",
    "XGBRegressionStudent",
    "XGBStudent",
    "__version__",
]
