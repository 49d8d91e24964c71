"""The tabular benchmark suite: HPMDistiller beside its baselines and the reference.

One command regenerates the published results::

    python -m benchmarks.run --suite quick   # minutes on 2 cores
    python -m benchmarks.run --suite medium  # every dataset, 2,000 rows each (2 h)
    python -m benchmarks.run --suite full    # all rows; diamonds, flights 10k (3 h)
    python -m benchmarks.run --suite medium --rows prefit levers  # some rows
    python -m benchmarks.run --task regression --suite quick|medium|full

It writes ``suite_<name>.json`` (every fit, the summaries, where the targets
stand), ``suite_<name>.md`` (the tables) and ``suite_<name>_*.png`` (plots) under
``--out`` (default ``benchmarks/results``); ``--update-readme`` puts the headline
table in the top-level README. ``--help`` lists the options that shrink a run.

Protocol
    Datasets and their preprocessing: ``benchmarks/datasets.py``. Per seed, a
    stratified 75/25 train/test split (after an optional stratified sample of
    ``max_rows`` rows, drawn with the same seed). The test rows are only scored:
    every choice (HPMDistiller's validation split, its gate, early stopping, the
    reference's model selection) comes from the training rows. Everything runs on
    one thread: ``n_jobs=1``, one torch thread, BLAS and OpenMP capped with
    threadpoolctl (the reference's process too), nothing in parallel.

Teachers (the same three, unfitted, for every distiller that uses three)
    ``XGBClassifier(enable_categorical=True, tree_method="hist")``,
    ``LGBMClassifier()`` and ``RandomForestClassifier()`` behind an
    ``OrdinalEncoder`` of the category columns (it takes no categories), all at
    their library defaults (100 trees each) with ``random_state=seed``.
    HPMDistiller fits them itself (on its training part, and cross-fitted for
    out-of-fold targets and the gate).

Rows of the table (one fit per dataset and seed each)
    - ``teachers (fused)``: the three teachers fused by the attention gate of the
      ``HPMDistiller()`` fit; ``teacher: <name>``: each of them alone.
    - ``HPMDistiller()``: all defaults (``student="auto"``, an MLP at least 10x
      smaller than the teachers); fitted first: its student's architecture is the
      one every baseline below uses (``clone(student_[-1])``: the same layers,
      epochs and early stopping), so rows differ by what the student learns from.
    - ``direct (alpha=0)``: the same student on the hard labels only
      (``alpha=0``, no augmentation, no chain; the teachers are still fitted, so
      its fit time includes them).
    - ``plain KD``: Hinton et al. (2015) with one teacher (XGBoost):
      ``temperature=4.0``, ``alpha=0.7``, the teacher's in-sample outputs as
      targets (``soft_targets="in_sample"``), no augmentation, no chain.
    - ``TAKD``: plain KD through one teacher assistant (Mirzadeh et al., 2020):
      the same with ``chain=1``.
    - ``HPMDistiller(<param>=<value>)``: the defaults with one component switched:
      off where it is on by default (``fusion="mean"``, ``temperature=2.0``,
      ``soft_targets="in_sample"``), on where it is off (``augment="munge"``,
      ``chain="auto"``). A switch the installed version lacks is a "skipped" row.
    - ``direct: LightGBM (50 trees x 15 leaves)``: a plain ``LGBMClassifier(
      n_estimators=50, num_leaves=15)`` on all the training rows' labels, its
      other settings at LightGBM's defaults; ``direct: LightGBM (15 leaves, the
      student's bytes)``: the same with as many rounds as come nearest the bytes
      of ``HPMDistiller()``'s student (1 to 50).
    - ``prefit: ...``: the three teachers fitted by the benchmark on the same
      training rows and given through ``sklearn.frozen.FrozenEstimator`` (as
      most users call it): ``HPMDistiller()`` (``prefit_teachers="as_is"``:
      in-sample targets), ``prefit_teachers="cross_fit"`` (out-of-fold targets
      from cross-fitted twins), and plain KD from the prefit XGBoost (its
      in-sample outputs; the default's student). Their ``fit_s`` excludes the
      teachers' fit (``prefit_teachers_fit_s``).
    - Lever rows (issue 14, ``LEVERS`` in ``suite/config.py``):
      ``final_rows="all"`` (with its direct twin), ``augment_ratio="auto"``,
      ``distill_loss="logit_mse"``, and an MLP of the curve's 100x size with and
      without ``numeric_embedding="periodic"`` (distilled and direct). A row runs
      only where the installed version has the parameter and accepts the
      value; otherwise it is a "skipped" row saying why.
    - ``reference: deepbridge-distillation``: see ``benchmarks/reference.py``;
      a failure is a row with its reason, never dropped.

    ``--rows`` runs some rows only: groups (``baselines``, ``ablations``,
    ``prefit``, ``levers``, ``reference``) or row names; the teachers' rows and
    ``HPMDistiller()`` always run. ``--merge`` joins such runs with others of
    the same datasets: a fit present in several documents is taken from the
    last one given.

Columns (test rows; mean ± std over seeds)
    accuracy; Δ accuracy against ``HPMDistiller()`` (paired by seed); retention
    (accuracy / the fused teachers' accuracy of the same seed); fidelity
    (agreement with the fused teachers' test predictions: the same reference for
    every row); compression (serialized bytes of the three teachers together /
    the row's model with its preprocessing, and the same ratio in parameters:
    tree nodes against weights; for the default rows the bytes ratio equals
    ``report_.compression``); predict speed-up (``predict_proba`` of the fused
    teachers / of the row's model, on the same 10,000 test rows drawn with
    replacement, best of 3, measured in the same process and run); fit wall time
    of the whole ``fit`` (teachers included) and without the teachers' own fit.

Compression curve
    Students of one hidden layer sized to be about 10x, 100x and 1000x smaller
    than the three teachers in parameters (the width that gives
    ``teacher nodes / ratio`` weights; the measured ratios, in bytes too, are
    reported), each trained four ways at the same size: direct (``alpha=0``),
    plain KD, ``HPMDistiller()`` and ``HPMDistiller(augment="munge")`` (the
    synthetic transfer set Bucila et al., 2006, found critical). "Gap closed" =
    (acc_distilled - acc_direct) / (acc_teacher - acc_direct), on means over
    seeds, wherever direct loses at least 1 point to the fused teachers.

Scale (full suite)
    ``HPMDistiller()`` on 10 %, 30 % and 100 % of flights' training rows, each fit
    in its own process so that its peak resident memory is its own.

Regression (``--task regression``)
    The same protocol with ``HPMRegressor`` on five regression datasets: its
    rows, columns, curve and targets are the docstring of
    ``benchmarks/suite/regression.py``; it writes ``regression_<name>.*``.

The code is the package ``benchmarks/suite/`` (its docstring lists the modules);
this file is the entry point.
"""

from .suite.cli import run

if __name__ == "__main__":
    run()
