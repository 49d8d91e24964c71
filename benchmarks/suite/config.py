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
# Baselines: (teachers: "all" or "xgb", HPMDistiller parameters).
BASELINES = {
    DIRECT: ("all", {"alpha": 0.0, "augment": None, "chain": False}),
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
)
CURVE_METHODS = {
    "direct": BASELINES[DIRECT],
    "plain KD": BASELINES[PLAIN_KD],
    DEFAULT: ("all", {}),
    HPM_MUNGE: ("all", {"augment": "munge"}),
}
METRICS = ("accuracy", "retention", "fidelity", "compression",
           "compression_parameters", "speedup", "fit_s", "fit_s_without_teachers")
