"""Writes a tsml tabular model as a joblib file of a scikit-learn Pipeline.

    Pipeline([("transform", ColumnTransformer(...)),          # the feature transformation
              ("model", XGBClassifier/XGBRegressor)])            # the trained booster, or
              ("impute", SimpleImputer), ("scale", StandardScaler),
              ("model", LogisticRegression | OneVsRestClassifier(LogisticRegression) | Ridge)

Input: a pandas DataFrame of the raw columns — numbers as floats (NaN = missing), categories
as strings (None/NaN = missing), timestamps as epoch milliseconds (float, NaN = missing).
predict_proba gives the class probabilities (the positive class is column 1), predict the
label or value. Only scikit-learn, pandas, numpy, operator and xgboost objects are pickled:
loading needs no tsml code.

The ColumnTransformer has one entry per encoded block, in tsml's feature order:
  numeric      → the value (float) and, when the model has one, MissingIndicator;
  timestamp    → day of week (0 = Sunday), month, hour, day of year (UTC), from the millis;
  categorical  → impute missing to a marker, OneHotEncoder over the levels (unknown values
                 fall into its infrequent column), then a fixed 0/1 matrix maps those columns
                 onto tsml's layout (levels, __other__, hash buckets for the values seen in
                 training, __missing__).

Sentiment models (spec kind "text"): Pipeline([("tfidf", TfidfVectorizer), ("model", ...)])
over strings of tsml's tokens joined by single spaces. Forecasters (kind "forecast"):
Pipeline([("model", XGBRegressor)]) over the encoded lag features, predicting the ratio.

usage: to_sklearn.py --spec spec.json --out model.joblib
"""
import argparse
import operator

import joblib
import numpy as np
import pandas as pd
import sklearn
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import common

MISSING = "\x00tsml:missing"
UNSEEN = "\x00tsml:unseen"


def ft(func, **kw):
    return FunctionTransformer(func, kw_args=kw or None, validate=False)


def as_float():
    return ft(operator.methodcaller("astype", "float64"))


def timestamp_entries(i, column):
    ms = [("ms", as_float())]
    calendar = [("series", ft(operator.methodcaller("squeeze", axis=1))),
                ("datetime", ft(pd.to_datetime, unit="ms")),
                ]
    frame = ("frame", ft(operator.methodcaller("to_frame")))
    floatify = ("float", as_float())
    return [
        (f"c{i}_dow", Pipeline(ms + [
            ("days", ft(operator.methodcaller("__floordiv__", 86400000))),
            ("shift", ft(operator.methodcaller("__add__", 4))),
            ("mod", ft(operator.methodcaller("__mod__", 7)))]), [column]),
        (f"c{i}_month", Pipeline(ms + calendar + [
            ("month", ft(operator.attrgetter("dt.month"))), frame, floatify]), [column]),
        (f"c{i}_hour", Pipeline(ms + [
            ("msofday", ft(operator.methodcaller("__mod__", 86400000))),
            ("hour", ft(operator.methodcaller("__floordiv__", 3600000)))]), [column]),
        (f"c{i}_doy", Pipeline(ms + calendar + [
            ("doy", ft(operator.attrgetter("dt.dayofyear"))), frame, floatify]), [column]),
    ]


def fit_values(c, hashed):
    levels = list(c["levels"])
    known = sorted(v for v in hashed.get(c["column"], {}) if v not in levels)
    return [UNSEEN] + (levels + known + [MISSING]) * 2


def categorical_pipeline(c, hashed):
    levels = list(c["levels"])
    width = len(levels) + (1 if c.get("other") else 0) + int(c.get("hashBuckets", 0)) + \
        (1 if c.get("missingLevel") else 0)
    known = sorted((v, b) for v, b in hashed.get(c["column"], {}).items() if v not in levels)
    cats = levels + [v for v, _ in known] + [MISSING]
    # Fitted (by build_transformer) on fit_values(): UNSEEN is then the only infrequent
    # category, so unknown values land in its column, which OneHotEncoder puts last.
    encoder = OneHotEncoder(categories=[cats + [UNSEEN]], handle_unknown="infrequent_if_exist",
                            min_frequency=2, sparse_output=False, dtype=np.float64)
    rows = len(cats) + 1
    m = np.zeros((rows, width), np.float64)
    for i in range(len(levels)):
        m[i, i] = 1.0
    for j, (_, bucket) in enumerate(known):
        m[len(levels) + j, len(levels) + bucket] = 1.0
    if c.get("missingLevel"):
        m[len(cats) - 1, width - 1] = 1.0
    if c.get("other"):
        m[rows - 1, len(levels)] = 1.0
    return Pipeline([
        ("object", ft(operator.methodcaller("astype", object))),
        ("none", SimpleImputer(missing_values=None, strategy="constant", fill_value=MISSING)),
        ("nan", SimpleImputer(missing_values=np.nan, strategy="constant", fill_value=MISSING)),
        ("onehot", encoder),
        ("layout", ft(operator.methodcaller("__matmul__", m))),
    ])


def build_transformer(spec):
    entries = []
    columns = spec["transform"]["columns"]
    hashed = spec.get("hashed", {})
    for i, c in enumerate(columns):
        name, kind = c["column"], c["kind"]
        if kind == "numeric":
            entries.append((f"c{i}_value", as_float(), [name]))
            if c.get("missingIndicator"):
                entries.append((f"c{i}_missing", Pipeline([("float", as_float()),
                                                           ("indicator", MissingIndicator(features="all"))]),
                                [name]))
        elif kind == "timestamp":
            entries.extend(timestamp_entries(i, name))
        else:
            entries.append((f"c{i}_onehot", categorical_pipeline(c, hashed), [name]))
    ct = ColumnTransformer(entries, remainder="drop", sparse_threshold=0.0, n_jobs=None)
    # Fit on a frame of the right dtypes: nothing is learned from it but the categories'
    # infrequent marker (see categorical_pipeline).
    cat_values = {c["column"]: fit_values(c, hashed) for c in columns if c["kind"] == "categorical"}
    n = max([len(v) for v in cat_values.values()] + [2])
    frame = {}
    for c in columns:
        if c["kind"] == "categorical":
            v = cat_values[c["column"]]
            frame[c["column"]] = pd.Series(v + [c["levels"][0]] * (n - len(v)), dtype=object)
        else:
            frame[c["column"]] = pd.Series([1.0, np.nan] * (n // 2) + [1.0] * (n % 2), dtype="float64")
    ct.fit(pd.DataFrame(frame))
    for i, c in enumerate(columns):
        if c["kind"] == "categorical":
            enc = ct.named_transformers_[f"c{i}_onehot"].named_steps["onehot"]
            if [list(x) for x in enc.infrequent_categories_] != [[UNSEEN]]:
                raise RuntimeError(f"unexpected infrequent categories for {c['column']}")
    return ct


def xgboost_model(spec):
    if spec["task"] == "regression":
        model = xgboost.XGBRegressor()
    else:
        model = xgboost.XGBClassifier()
    model.load_model(spec["boosterPath"])
    model.set_params(n_jobs=1)
    return model


def linear_steps(spec):
    a = common.linear_arrays(spec)
    f = a["mean"].shape[0]
    imputer = SimpleImputer(strategy="mean").fit(a["mean"].reshape(1, -1))
    scaler = StandardScaler().fit(np.vstack([a["mean"] - a["scale"], a["mean"] + a["scale"]]))
    scaler.mean_ = a["mean"].copy()
    scaler.scale_ = a["scale"].copy()
    scaler.var_ = a["scale"] ** 2
    if spec["task"] == "regression":
        rng = np.random.default_rng(0)
        model = Ridge().fit(rng.normal(size=(4, f)), rng.normal(size=4))
        model.coef_ = a["weights"][0].copy()
        model.intercept_ = float(a["bias"][0])
    else:
        model = logistic_model(spec["task"], spec["classes"], a["weights"], a["bias"])
    return [("impute", imputer), ("scale", scaler), ("model", model)]


def logistic_model(task, classes, weights, bias):
    """LogisticRegression (binary: one row, class 1 against 0) or liblinear's normalized
    one-vs-rest (OneVsRestClassifier, a row per class) carrying the trained weights."""
    classes = np.asarray(classes, dtype=object)
    f = weights.shape[1]
    rng = np.random.default_rng(0)
    if task == "binary_classification":
        model = LogisticRegression().fit(rng.normal(size=(4, f)), np.array([0, 1, 0, 1]))
        model.coef_ = weights[:1].copy()
        model.intercept_ = bias[:1].copy()
        model.classes_ = classes
        return model
    k = len(classes)
    y = np.array([classes[i % k] for i in range(2 * k)], dtype=object)
    model = OneVsRestClassifier(LogisticRegression()).fit(rng.normal(size=(2 * k, f)), y)
    model.classes_ = classes
    model.label_binarizer_.classes_ = classes
    for i, est in enumerate(model.estimators_):
        est.coef_ = weights[i:i + 1].copy()
        est.intercept_ = bias[i:i + 1].copy()
    return model


def build_text(spec):
    """TfidfVectorizer over the tokens (a string of tsml's tokens joined by single spaces), with
    tsml's vocabulary and idf, sublinear tf and L2 rows; then the logistic regression."""
    terms = spec["terms"]
    f = len(terms)
    vectorizer = TfidfVectorizer(
        tokenizer=operator.methodcaller("split", " "), token_pattern=None, lowercase=False,
        ngram_range=(1, int(spec["ngramMax"])), vocabulary={t: i for i, t in enumerate(terms)},
        sublinear_tf=True, smooth_idf=True, norm="l2", dtype=np.float64)
    vectorizer.fit([" ".join(t for t in terms if " " not in t)])
    vectorizer.idf_ = np.asarray(spec["idf"], np.float64)
    w = np.asarray(spec["weights"], np.float64).reshape(int(spec["rows"]), f + 1)
    model = logistic_model(spec["task"], spec["classes"], w[:, :f], w[:, f])
    return Pipeline([("tfidf", vectorizer), ("model", model)])


def build(spec):
    if spec.get("kind") == "text":
        return build_text(spec)
    if spec.get("kind") == "forecast":  # the one-step model over the encoded lag features
        return Pipeline([("model", xgboost_model(spec))])
    steps = [("transform", build_transformer(spec))]
    if spec["estimator"] == "xgboost":
        steps.append(("model", xgboost_model(spec)))
    else:
        steps.extend(linear_steps(spec))
    return Pipeline(steps)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    spec = common.load_json(args.spec)
    pipeline = build(spec)
    joblib.dump(pipeline, args.out)
    kind = spec.get("kind", "tabular")
    common.answer({
        "layout": {
            "file": "model.joblib",
            "object": "sklearn.pipeline.Pipeline",
            "steps": [name for name, _ in pipeline.steps],
            "estimator": type(pipeline.steps[-1][1]).__name__,
            "input": {"tabular": "pandas.DataFrame of the raw columns",
                      "text": "list of str: each text's tsml tokens joined by single spaces",
                      "forecast": "float32 [N, F] of the encoded lag features"}[kind],
            "output": {"tabular": "predict_proba (classification; classes in `classes` order) "
                                  "or predict",
                       "text": "predict_proba (classes in `classes` order)",
                       "forecast": "predict: the ratio to the series' local level"}[kind],
        },
        "versions": {"scikit-learn": sklearn.__version__, "xgboost": xgboost.__version__,
                     "joblib": joblib.__version__, "pandas": pd.__version__,
                     "numpy": np.__version__},
    })


if __name__ == "__main__":
    main()
