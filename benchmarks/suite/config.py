"""What the suite runs: its sizes, its rows and their names, its columns."""

from ..datasets import DATASETS

# --help's description: the first line of the protocol (benchmarks/run.py).
TITLE = ("The tabular benchmark suite: HPMDistiller beside its baselines and the "
         "reference.")
COMMAND = "python -m benchmarks.run"
TEST_SIZE = 0.25
LATENCY_ROWS = 10_000
README_START = "<!-- benchmark-headline:start -->"
README_END = "<!-- benchmark-headline:end -->"

SUITES = {
    "quick": {
        "datasets": ("mlc_churn", "hpc_data", "digits"),
        "seeds": (0, 1),
        "max_rows": 1000,
        "row_caps": {},
        "curve_datasets": ("digits",),
        "curve_ratios": (100,),
        "scale": None,
    },
    # The full suite's datasets, seeds, curve and scale, on samples of 2,000 rows
    # per dataset (the scale section still fits flights on all rows): about two
    # hours on one core, where the full suite takes many.
    "medium": {
        "datasets": tuple(DATASETS),
        "seeds": (0, 1, 2),
        "max_rows": 2000,
        "row_caps": {},
        "curve_datasets": ("digits", "diamonds", "hpc_data", "mlc_churn", "email"),
        "curve_ratios": (10, 100, 1000),
        "scale": ("flights", (0.1, 0.3, 1.0)),
    },
    "full": {
        "datasets": tuple(DATASETS),
        "seeds": (0, 1, 2),
        "max_rows": None,
        # The table fits each dataset 13 times per seed (and diamonds 12 more in
        # the curve): on 2 cores the two large ones would take most of a day
        # at all rows, so the table samples 10,000 of each (--max-rows 400000
        # lifts the caps); the scale section fits flights on all rows.
        "row_caps": {"diamonds": 10_000, "flights": 10_000},
        # Chosen before any result of HPMDistiller on them (benchmarks/README.md).
        "curve_datasets": ("digits", "diamonds", "hpc_data", "mlc_churn", "email"),
        "curve_ratios": (10, 100, 1000),
        "scale": ("flights", (0.1, 0.3, 1.0)),
    },
}

TEACHER_NAMES = ("XGBoost", "LightGBM", "RandomForest")
FUSED = "teachers (fused)"
DEFAULT = "HPMDistiller()"
DIRECT = "direct (alpha=0)"
PLAIN_KD = "plain KD (XGBoost, T=4, alpha=0.7)"
TAKD = "TAKD (plain KD + 1 assistant)"
REFERENCE = "reference: deepbridge-distillation"
HPM_MUNGE = "HPMDistiller(augment='munge')"
# Direct: the student on the hard labels only.
DIRECT_PARAMS = {"alpha": 0.0, "augment": None, "chain": False}
# Baselines: (teachers: "all" or "xgb", HPMDistiller parameters).
BASELINES = {
    DIRECT: ("all", DIRECT_PARAMS),
    PLAIN_KD: ("xgb", {"temperature": 4.0, "alpha": 0.7,
                       "soft_targets": "in_sample", "augment": None,
                       "chain": False}),
    TAKD: ("xgb", {"temperature": 4.0, "alpha": 0.7, "soft_targets": "in_sample",
                   "augment": None, "chain": 1}),
}
# Components: (parameter, on, off). The ablation row switches the default: to
# "off" unless the default already is "off", then to "on".
COMPONENTS = (
    ("fusion", "attention", "mean"),
    ("temperature", "auto", 2.0),
    ("soft_targets", "oof", "in_sample"),
    ("augment", "munge", None),
    ("chain", "auto", False),
    ("final_rows", "all", "train"),
)
# Prefit rows (issue 14): the three teachers fitted by the benchmark on the same
# training rows and given through FrozenEstimator. (teachers: "all" or "xgb",
# HPMDistiller parameters; "student": the default's student, as the baselines.)
PREFIT_DEFAULT = "prefit: HPMDistiller()"
PREFIT_AS_IS = "prefit: HPMDistiller(prefit_teachers='as_is')"
PREFIT_CROSS_FIT = "prefit: HPMDistiller(prefit_teachers='cross_fit')"
PREFIT_KD = "prefit: plain KD (XGBoost, in-sample)"
PREFIT_LOGIT_MSE = "prefit: HPMDistiller(distill_loss='logit_mse')"
PREFIT = {
    PREFIT_DEFAULT: ("all", {}),
    PREFIT_AS_IS: ("all", {"prefit_teachers": "as_is"}),
    PREFIT_CROSS_FIT: ("all", {"prefit_teachers": "cross_fit"}),
    PREFIT_KD: ("xgb", {"temperature": 4.0, "alpha": 0.7, "augment": None,
                        "chain": False, "student": "student"}),
    PREFIT_LOGIT_MSE: ("all", {"distill_loss": "logit_mse"}),
}
# Direct LightGBM rows: the 50 trees x 15 leaves (n_estimators=50,
# num_leaves=15), and as many boosting rounds of 15 leaves as come nearest the
# default student's bytes (between 1 and 50; a round is one tree per class for
# more than two classes), on all the training rows' hard labels, LightGBM's
# other settings at their defaults.
LGBM_DIRECT = "direct: LightGBM (50 trees x 15 leaves)"
LGBM_DIRECT_BYTES = "direct: LightGBM (15 leaves, the student's bytes)"
LGBM_LEAVES, LGBM_TREES = 15, 50
# Lever ablations (issue 14): name -> HPMDistiller parameters. "student" may be
# a name resolved per split (STUDENTS): the default's student, or an MLPStudent of
# one hidden layer sized as the curve's 100x student, with or without periodic
# numeric embeddings. A row runs only where the installed version has every
# parameter and accepts its value; otherwise it is a "skipped" row, so the suite
# picks the levers up once they are merged.
MLP_100X, MLP_100X_PERIODIC = "MLPStudent(100x)", "MLPStudent(100x, periodic)"
STUDENTS = {
    "student": {},
    MLP_100X: {"ratio": 100},
    MLP_100X_PERIODIC: {"ratio": 100, "numeric_embedding": "periodic"},
}
LEVERS = {
    "HPMDistiller(final_rows='all')": {"final_rows": "all"},
    "direct (alpha=0, final_rows='all')": {**DIRECT_PARAMS, "final_rows": "all",
                                           "student": "student"},
    "HPMDistiller(augment='munge', augment_ratio='auto')": {
        "augment": "munge", "augment_ratio": "auto"},
    "HPMDistiller(distill_loss='logit_mse')": {"distill_loss": "logit_mse"},
    "HPMDistiller(student=MLPStudent(100x))": {"student": MLP_100X},
    "HPMDistiller(student=MLPStudent(100x, numeric_embedding='periodic'))": {
        "student": MLP_100X_PERIODIC},
    "direct (alpha=0, MLPStudent(100x))": {**DIRECT_PARAMS, "student": MLP_100X},
    "direct (alpha=0, MLPStudent(100x, numeric_embedding='periodic'))": {
        **DIRECT_PARAMS, "student": MLP_100X_PERIODIC},
    # Issue 14's "within 1.5 points of the teachers while >= 50x smaller".
    "HPMDistiller(min_compression=50)": {"min_compression": 50.0},
}
# --rows: groups of rows. The teachers' rows and HPMDistiller() always run (every
# other row is measured against them and takes its student).
ROW_GROUPS = ("baselines", "ablations", "prefit", "levers", "reference")
CURVE_METHODS = {
    "direct": BASELINES[DIRECT],
    "plain KD": BASELINES[PLAIN_KD],
    DEFAULT: ("all", {}),
    HPM_MUNGE: ("all", {"augment": "munge"}),
}
METRICS = ("accuracy", "retention", "fidelity", "compression",
           "compression_parameters", "speedup", "fit_s", "fit_s_without_teachers")

# The regression suite (--task regression, issue 16): the same protocol with
# HPMRegressor, the teachers' regressors and RMSE where accuracy was.
REGRESSION_DATASET_NAMES = ("diamonds_price", "ames", "concrete", "flights_delay",
                            "cps1988")
REGRESSION_SUITES = {
    "quick": {
        "datasets": ("concrete", "diamonds_price"),
        "seeds": (0, 1),
        "max_rows": 1000,
        "row_caps": {},
        "curve_datasets": ("concrete",),
        "curve_ratios": (100,),
        "scale": None,
    },
    "medium": {
        "datasets": REGRESSION_DATASET_NAMES,
        "seeds": (0, 1, 2),
        "max_rows": 2000,
        "row_caps": {},
        "curve_datasets": REGRESSION_DATASET_NAMES,
        "curve_ratios": (10, 100, 1000),
        "scale": None,
    },
    "full": {
        "datasets": REGRESSION_DATASET_NAMES,
        "seeds": (0, 1, 2),
        "max_rows": None,
        # As the classification suite: the large ones sampled (--max-rows lifts).
        "row_caps": {"diamonds_price": 10_000, "flights_delay": 10_000,
                     "cps1988": 10_000},
        "curve_datasets": REGRESSION_DATASET_NAMES,
        "curve_ratios": (10, 100, 1000),
        "scale": None,
    },
}
REG_DEFAULT = "HPMRegressor()"
REG_DIRECT = "direct (alpha=0)"
REG_PLAIN_KD = "plain KD (XGBoost, alpha=0.7)"
REG_MUNGE = "HPMRegressor(augment='munge')"
REGRESSION_BASELINES = {
    REG_DIRECT: ("all", {"alpha": 0.0, "augment": None}),
    REG_PLAIN_KD: ("xgb", {"alpha": 0.7, "soft_targets": "in_sample",
                           "augment": None}),
}
# A component HPMRegressor lacks here (the chain, so far) is a "skipped" row; the
# baselines get chain=False where it has one.
REGRESSION_COMPONENTS = (
    ("fusion", "attention", "mean"),
    ("soft_targets", "oof", "in_sample"),
    ("augment", "auto", None),
    ("augment", "munge", "auto"),
    ("chain", "auto", False),
    ("final_rows", "all", "train"),
    # The distil-or-not check of a named student's alpha="auto" (0.7 or 0).
    ("alpha", "auto", 0.7),
)
REGRESSION_CURVE_METHODS = {
    "direct": REGRESSION_BASELINES[REG_DIRECT],
    "plain KD": REGRESSION_BASELINES[REG_PLAIN_KD],
    REG_DEFAULT: ("all", {}),
    REG_MUNGE: ("all", {"augment": "munge"}),
}
REGRESSION_METRICS = ("r2", "rmse", "mae", "retention", "fidelity", "compression",
                      "compression_parameters", "speedup", "fit_s",
                      "fit_s_without_teachers")
