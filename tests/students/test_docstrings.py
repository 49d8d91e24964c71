"""The students' shared docstring entries are filled in where each names them."""

import re

import pytest

from skdistill.students import STUDENT_FAMILIES
from skdistill.students._docstrings import with_shared_docstring


@pytest.mark.parametrize("student", STUDENT_FAMILIES.values(),
                         ids=lambda cls: cls.__name__)
def test_every_student_lists_the_fitted_attributes_once(student):
    doc = student.__doc__
    assert not re.search(r"^\s*\{\w+\}\s*$", doc, flags=re.MULTILINE)
    for name in ("classes_", "n_features_in_", "feature_names_in_"):
        assert len(re.findall(rf"^    {name} : ", doc, flags=re.MULTILINE)) == 1


def test_a_block_takes_the_indentation_of_its_line_and_unknown_names_fail():
    class Documented:
        """Summary.

        Attributes
        ----------
        {temperature_attribute}
        """

    # (Python 3.13 strips the indentation of docstrings: compare with its own.)
    lines = with_shared_docstring(Documented).__doc__.split("\n")
    indent = lines[2][: -len("Attributes")]
    assert lines[4:6] == [f"{indent}temperature_ : float",
                          f"{indent}    Temperature the targets were softened with; "
                          "``predict_proba`` sharpens"]

    class Misspelled:
        """{fited_attributes}"""

    with pytest.raises(KeyError, match="fited_attributes"):
        with_shared_docstring(Misspelled)
