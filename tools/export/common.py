"""Shared helpers of the tsml export converters (run by the service as child processes).

Every converter reads the model description that tsml writes (spec.json: the task, the
fitted feature transformation, and the estimator as plain arrays; see
src/export/tabular_ir.h) and prints one JSON object as the last line of its stdout.
"""
import json
import math
import sys

import numpy as np


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def answer(obj):
    """Prints the converter's result as the last stdout line (NaN → null)."""
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v
    sys.stdout.write(json.dumps(clean(obj)) + "\n")
    sys.stdout.flush()


def padded_trees(spec):
    """XGBoost trees as [T, M] arrays (M = the largest tree); leaves loop to themselves, so
    `depth` traversal steps reach every leaf. Returns a dict of numpy arrays."""
    trees = spec["trees"]["trees"]
    t_count = len(trees)
    m = max(len(t["left"]) for t in trees)
    feature = np.zeros((t_count, m), np.int64)
    threshold = np.zeros((t_count, m), np.float32)
    left = np.zeros((t_count, m), np.int64)
    right = np.zeros((t_count, m), np.int64)
    default_left = np.zeros((t_count, m), bool)
    value = np.zeros((t_count, m), np.float32)
    target = np.zeros((t_count,), np.int64)
    for i, t in enumerate(trees):
        n = len(t["left"])
        target[i] = t["target"]
        for j in range(n):
            if t["leaf"][j]:
                left[i, j] = right[i, j] = j
                value[i, j] = t["value"][j]
            else:
                feature[i, j] = t["feature"][j]
                threshold[i, j] = t["threshold"][j]
                left[i, j] = t["left"][j]
                right[i, j] = t["right"][j]
                default_left[i, j] = bool(t["defaultLeft"][j])
        for j in range(n, m):  # padding: unreachable self-loops
            left[i, j] = right[i, j] = j
    k = spec["numOutputs"]
    onehot = np.zeros((t_count, k), np.float64)
    onehot[np.arange(t_count), target] = 1.0
    return {
        "feature": feature, "threshold": threshold, "left": left, "right": right,
        "default_left": default_left, "value": value, "target_onehot": onehot,
        "base_margin": np.asarray(spec["trees"]["baseMargin"], np.float64),
        "depth": max(1, int(spec["trees"]["maxDepth"])),
    }


def linear_arrays(spec):
    lin = spec["linear"]
    return {
        "mean": np.asarray(lin["mean"], np.float64),
        "scale": np.asarray(lin["scale"], np.float64),
        "weights": np.asarray(lin["weights"], np.float64),  # [outputs, features]
        "bias": np.asarray(lin["bias"], np.float64),
    }
