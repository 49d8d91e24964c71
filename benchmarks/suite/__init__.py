"""The code of the tabular benchmark suite, ``python -m benchmarks.run``.

The protocol (datasets, splits, teachers, rows, columns, curve, scale) is the
docstring of ``benchmarks/run.py``, the entry point. Modules:

- ``config``: the suites, the rows' names and settings, the columns;
- ``fit``: teachers, splits, one fit and its measures;
- ``rows``: every row of the table, and the curve, on one dataset and seed;
- ``regression``: the regression suite's rows, curve, summaries, targets and
  markdown (``--task regression``);
- ``scale``: the scale section, a child process per size;
- ``summarise``: means over seeds, gap closed, where the targets stand;
- ``render`` and ``plots``: the markdown, the README headline, the PNGs;
- ``cli``: the command line, the run, the merge and the files written (the
  ``Task`` of each suite: what differs between them).

Helpers shared with the other benchmark scripts: ``benchmarks/common.py``.
"""
