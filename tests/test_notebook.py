"""examples/quickstart.ipynb runs top to bottom, on few rows, without an error."""

import json
import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
REPO_ROOT = NOTEBOOK.parents[1]
# Enough rows for 3-fold GridSearchCV on a stratified split; few enough that the
# whole notebook runs in seconds.
N_ROWS = 150


def _code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _source(cell):
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_notebook_is_stored_without_outputs():
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))

    for cell in _code_cells(notebook):
        assert cell["outputs"] == [] and cell["execution_count"] is None


def test_notebook_sets_n_rows_in_its_tagged_first_code_cell():
    first = _code_cells(json.loads(NOTEBOOK.read_text(encoding="utf-8")))[0]

    assert "parameters" in first["metadata"].get("tags", [])
    assert "N_ROWS = None" in _source(first)


@pytest.fixture
def executed_notebook(monkeypatch, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = next(index for index, cell in enumerate(notebook.cells)
                      if "parameters" in cell.metadata.get("tags", []))
    notebook.cells.insert(parameters + 1, nbformat.v4.new_code_cell(
        f"N_ROWS = {N_ROWS}  # injected by tests/test_notebook.py"))
    # The kernel imports the package from this checkout, and runs one BLAS /
    # OpenMP / torch thread: the tests run on machines with few cores.
    python_path = [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, python_path)))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}})
    # Raises CellExecutionError, with the cell and its traceback, on any error.
    client.execute()
    return notebook


def _outputs_of(notebook, code):
    cell = next(cell for cell in notebook.cells
                if cell.cell_type == "code" and cell.source.strip() == code)
    return cell.outputs


@pytest.mark.slow  # a 6,000+ row problem, processes or a cluster
def test_notebook_runs_top_to_bottom_and_shows_the_report(executed_notebook):
    cells = _code_cells(executed_notebook)
    assert all(cell.execution_count is not None for cell in cells)
    assert not [output for cell in cells for output in cell.outputs
                if output.output_type == "error"]

    (report,) = _outputs_of(executed_notebook, "distiller.report_")
    assert "<table" in report.data["text/html"]
    assert "fidelity" in report.data["text/html"]

    figures = _outputs_of(executed_notebook, "fig = distiller.report_.plot()")
    assert [output.output_type for output in figures] == ["display_data"]
    assert figures[0].data["image/png"]

    printed = "".join(output.get("text", "") for cell in cells
                      for output in cell.outputs)
    assert f"{N_ROWS * 3 // 4} training rows" in printed
    assert "the loaded student predicts exactly as the distiller" in printed
