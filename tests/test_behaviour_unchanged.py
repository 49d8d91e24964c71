"""The architecture change kept every prediction: fits saved at ``2dce242``."""

import numpy as np
import pytest
from behaviour_cases import CASES, SNAPSHOT, fitted_proba


@pytest.mark.parametrize("case", sorted(CASES))
def test_predictions_equal_those_saved_before_the_architecture_change(case):
    _, proba = fitted_proba(case)
    np.testing.assert_allclose(proba, np.load(SNAPSHOT)[case], rtol=0, atol=1e-6)
