"""Loads an exported tsml model back in its home runtime and scores sample.json's rows.

Prints {"runtime", "runtimeVersion", "scores", "checks"} as the last stdout line; the
service compares `scores` with sample.json's `expectedScores` (max |diff| <= 1e-4). Exits
non-zero when the file cannot be loaded or fails a format check (ONNX checker, PMML XSD).

usage: verify.py --format onnx|pmml|sklearn|pytorch|tensorflow --zip export.zip --work DIR
"""
import argparse
import glob
import os
import shutil
import sys
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

import common  # noqa: E402


def numeric(rows, name, dtype):
    return np.array([[np.nan if r.get(name) is None else float(r[name])] for r in rows], dtype)


def scores_from_probabilities(p, task):
    p = np.asarray(p, np.float64)
    if task == "binary_classification":
        return p[:, 1]
    return p


def text_tokens(d, sample):
    """The sample texts' tokens from the export's own tokenizer.py, which must reproduce the
    service's (sample.json encodedInputs) exactly."""
    sys.path.insert(0, d)
    try:
        import tokenizer
    finally:
        sys.path.pop(0)
    tokens = [tokenizer.tokenize(r.get("text")) for r in sample["rows"]]
    for i, (got, want) in enumerate(zip(tokens, sample["encodedInputs"])):
        if got != want:
            raise SystemExit(f"tokenizer.py differs from the service on sample text {i}: "
                             f"{got!r} != {want!r}")
    return tokens, f"tokenizer.py reproduces the service's tokens of {len(tokens)} texts"


def fasttext_id_matrix(d, sample, tokens):
    """fastText input ids of the tokens from tokenizer.fasttext_ids, which must match the
    service's (sample.json featureIds), as an int64 matrix padded with -1."""
    import tokenizer
    vocab = tokenizer.load_fasttext_vocab(os.path.join(d, "fasttext_vocab.json"))
    ids = [tokenizer.fasttext_ids(t, vocab) for t in tokens]
    for i, (got, want) in enumerate(zip(ids, sample["featureIds"])):
        if got != want:
            raise SystemExit(f"tokenizer.fasttext_ids differs from fastText on sample text {i}")
    width = max([len(r) for r in ids] + [1])
    return np.array([r + [-1] * (width - len(r)) for r in ids], np.int64)


def token_matrix(rows):
    """Token lists as a string matrix [N, T], padded with ""."""
    width = max([len(r) for r in rows] + [1])
    return np.array([list(r) + [""] * (width - len(r)) for r in rows], dtype=object)


def forecast_values(ratio, sample):
    """A forecaster's values from its ratios: ratio * scale, at least 0 where nonNegative."""
    v = np.asarray(ratio, np.float64).reshape(-1) * np.asarray(sample["scales"], np.float64)
    v[~np.isfinite(v)] = 0.0
    return np.where(np.asarray(sample["nonNegative"], bool), np.maximum(v, 0.0), v)


def verify_onnx(d, sample):
    import onnx
    import onnxruntime as ort
    path = os.path.join(d, "model.onnx")
    onnx.checker.check_model(onnx.load(path), full_check=True)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    rows = sample["rows"]
    if sample["task"] == "ranking":
        items, scores = sess.run(["item_ids", "scores"], {
            "user_id": np.array([r["userId"] for r in rows], dtype=object),
            "k": np.array([sample["k"]], np.int64)})
        return ("onnxruntime", ort.__version__, np.asarray(scores, np.float64),
                {"onnxChecker": "passed (full_check)", "items": [list(map(str, r)) for r in items]})
    if sample.get("kind") == "forecast_state":
        (forecast,) = sess.run(["forecast"], {
            "group": np.array([r["group"] or "" for r in rows], dtype=object),
            "horizon": np.array([sample["horizon"]], np.int64)})
        return ("onnxruntime", ort.__version__, np.asarray(forecast, np.float64),
                {"onnxChecker": "passed (full_check)"})
    if sample.get("kind") == "text":
        tokens, check = text_tokens(d, sample)
        if "featureIds" in sample:  # fastText
            feeds = {"ids": fasttext_id_matrix(d, sample, tokens)}
        else:
            feeds = {"tokens": token_matrix(tokens)}
        (probabilities,) = sess.run(["probabilities"], feeds)
        return ("onnxruntime", ort.__version__,
                scores_from_probabilities(probabilities, sample["task"]),
                {"onnxChecker": "passed (full_check)", "tokenizer": check})
    if sample.get("kind") == "forecast":
        (ratio,) = sess.run(["ratio"], {"features": encoded(sample)})
        return ("onnxruntime", ort.__version__, forecast_values(ratio[:, 0], sample),
                {"onnxChecker": "passed (full_check)"})
    feeds = {}
    for i in sess.get_inputs():
        if i.type == "tensor(string)":
            feeds[i.name] = np.array([["" if r.get(i.name) is None else str(r[i.name])] for r in rows],
                                     dtype=object)
        elif i.type == "tensor(double)":
            feeds[i.name] = numeric(rows, i.name, np.float64)
        else:
            feeds[i.name] = numeric(rows, i.name, np.float32)
    out = sess.run(None, feeds)  # [value] or [label, probabilities]
    if sample["task"] == "regression":
        scores = np.asarray(out[0], np.float64)[:, 0]
    else:
        scores = scores_from_probabilities(out[1], sample["task"])
    return "onnxruntime", ort.__version__, scores, {"onnxChecker": "passed (full_check)"}


def pmml_xsd():
    """PMML 4.4's XSD, as shipped in jpmml_evaluator's pmml-model jar."""
    import jpmml_evaluator
    base = os.path.dirname(jpmml_evaluator.__file__)
    for jar in glob.glob(os.path.join(base, "**", "pmml-model-*.jar"), recursive=True):
        with zipfile.ZipFile(jar) as z:
            if "pmml.xsd" in z.namelist():
                return z.read("pmml.xsd"), os.path.basename(jar)
    return None, None


def verify_pmml(d, sample):
    from lxml import etree
    from pypmml import Model
    import pypmml
    path = os.path.join(d, "model.pmml")
    checks = {}
    xsd, source = pmml_xsd()
    if xsd is None:
        checks["xsd"] = "skipped: no PMML 4.4 XSD found"
    else:
        schema = etree.XMLSchema(etree.fromstring(xsd))
        doc = etree.parse(path)
        if not schema.validate(doc):
            errors = "; ".join(str(e) for e in list(schema.error_log)[:5])
            raise SystemExit(f"model.pmml is not valid against the PMML 4.4 XSD ({source}): {errors}")
        checks["xsd"] = f"valid (PMML 4.4 XSD from {source})"
    import pandas as pd
    model = Model.load(path)
    try:
        cols = {c["name"]: c["type"] for c in sample["columns"]}
        frame = pd.DataFrame({
            name: pd.Series([r.get(name) for r in sample["rows"]],
                            dtype=object if kind == "categorical" else "float64")
            for name, kind in cols.items()})
        out = model.predict(frame)
        if sample["task"] == "regression":
            col = [c for c in out.columns if c.startswith("predicted_")][0]
            scores = out[col].to_numpy(np.float64)
        else:
            classes = sample["classes"]
            p = np.stack([out[f"probability({c})"].to_numpy(np.float64) for c in classes], axis=1)
            scores = scores_from_probabilities(p, sample["task"])
    finally:
        model.close() if hasattr(model, "close") else None
    return "pypmml", pypmml.__version__, scores, checks


def frame_for_sklearn(sample):
    import pandas as pd
    data = {}
    for c in sample["columns"]:
        values = [r.get(c["name"]) for r in sample["rows"]]
        if c["type"] == "categorical":
            data[c["name"]] = pd.Series(values, dtype=object)
        else:
            data[c["name"]] = pd.Series([np.nan if v is None else float(v) for v in values],
                                        dtype="float64")
    return pd.DataFrame(data)


def verify_sklearn(d, sample):
    import joblib
    import sklearn
    pipeline = joblib.load(os.path.join(d, "model.joblib"))
    checks = {"pipelineSteps": [n for n, _ in pipeline.steps]}
    if sample.get("kind") == "text":
        tokens, checks["tokenizer"] = text_tokens(d, sample)
        texts = [" ".join(t) for t in tokens]
        scores = scores_from_probabilities(pipeline.predict_proba(texts), sample["task"])
        return "scikit-learn", sklearn.__version__, scores, checks
    if sample.get("kind") == "forecast":
        scores = forecast_values(pipeline.predict(encoded(sample)), sample)
        return "scikit-learn", sklearn.__version__, scores, checks
    x = frame_for_sklearn(sample)
    if sample["task"] == "regression":
        scores = np.asarray(pipeline.predict(x), np.float64)
    else:
        scores = scores_from_probabilities(pipeline.predict_proba(x), sample["task"])
    return "scikit-learn", sklearn.__version__, scores, checks


def encoded(sample):
    return np.array([[np.nan if v is None else v for v in r] for r in sample["encodedInputs"]],
                    np.float32)


def verify_pytorch(d, sample):
    import torch
    torch.set_num_threads(1)
    module = torch.jit.load(os.path.join(d, "model.pt"))
    if sample.get("kind") == "text":  # fastText
        tokens, check = text_tokens(d, sample)
        ids = torch.from_numpy(fasttext_id_matrix(d, sample, tokens))
        with torch.no_grad():
            p = module(ids).numpy()
        return ("torch", torch.__version__, scores_from_probabilities(p, sample["task"]),
                {"torchscript": type(module).__name__, "tokenizer": check})
    if sample.get("kind") == "forecast_state":
        with torch.no_grad():
            scores = module([r["group"] or "" for r in sample["rows"]], int(sample["horizon"]))
        return "torch", torch.__version__, scores.numpy(), {"torchscript": type(module).__name__}
    if sample["task"] == "ranking":
        with torch.no_grad():
            items, scores = module([r["userId"] for r in sample["rows"]], int(sample["k"]))
        return ("torch", torch.__version__, scores.numpy().astype(np.float64),
                {"torchscript": type(module).__name__, "items": items})
    with torch.no_grad():
        scores = module(torch.from_numpy(encoded(sample))).numpy().astype(np.float64)
    if sample.get("kind") == "forecast":
        scores = forecast_values(scores, sample)
    return "torch", torch.__version__, scores, {"torchscript": type(module).__name__}


def verify_tensorflow(d, sample):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = tf.saved_model.load(os.path.join(d, "saved_model"))
    fn = model.signatures["serving_default"]
    out = fn(features=tf.constant(encoded(sample)))
    scores = out["scores"].numpy().astype(np.float64)
    if sample.get("kind") == "forecast":
        scores = forecast_values(scores, sample)
    return "tensorflow", tf.__version__, scores, {"signature": "serving_default"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--format", required=True,
                   choices=["onnx", "pmml", "sklearn", "pytorch", "tensorflow"])
    p.add_argument("--zip", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    with zipfile.ZipFile(args.zip) as z:
        bad = z.testzip()
        if bad is not None:
            raise SystemExit(f"corrupt zip entry {bad}")
        z.extractall(args.work)
    sample = common.load_json(os.path.join(args.work, "sample.json"))
    fn = {"onnx": verify_onnx, "pmml": verify_pmml, "sklearn": verify_sklearn,
          "pytorch": verify_pytorch, "tensorflow": verify_tensorflow}[args.format]
    runtime, version, scores, checks = fn(args.work, sample)
    result = {"runtime": runtime, "runtimeVersion": version,
              "scores": np.asarray(scores, np.float64).tolist()}
    if "items" in checks:
        result["items"] = checks.pop("items")
    result["checks"] = checks
    common.answer(result)


if __name__ == "__main__":
    sys.exit(main())
