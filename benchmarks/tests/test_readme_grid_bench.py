"""The README's grid benchmark: the grid it times is the README's own."""

import ast
import re
from pathlib import Path

from benchmarks import readme_grid


def test_the_timed_grid_is_the_readmes():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
                 if "GridSearchCV(" in b)
    literal = re.search(r"(\{\"student__hidden_layer_sizes\".*?\})", block,
                        flags=re.S).group(1)
    grid = ast.literal_eval(literal)
    assert grid == readme_grid.SPACE
    # the README's version is the seeded one this benchmark times as "seeded"
    assert "random_state=0" in block
