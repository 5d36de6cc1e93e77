"""Writes a tsml tabular model as a TensorFlow SavedModel.

Signature `serving_default`: input `features` (float32 [N, F], the encoded features, NaN =
missing; sample.json `encodedInputs`), output `scores`: the positive-class probability [N]
(binary), class probabilities [N, K] (multiclass) or values [N] (regression). XGBoost trees
run as a batched traversal (gathers, `depth` steps); linear models directly.

usage: to_tf.py --spec spec.json --out saved_model
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import common  # noqa: E402


class Model(tf.Module):
    def __init__(self, spec):
        super().__init__()
        self.task = spec["task"]
        self.estimator = spec["estimator"]
        f = spec["numFeatures"]
        if self.estimator == "xgboost":
            a = common.padded_trees(spec)
            self.feature = tf.constant(a["feature"].astype(np.int32))
            self.threshold = tf.constant(a["threshold"])
            self.left = tf.constant(a["left"].astype(np.int32))
            self.right = tf.constant(a["right"].astype(np.int32))
            self.default_left = tf.constant(a["default_left"])
            self.value = tf.constant(a["value"])
            self.target_onehot = tf.constant(a["target_onehot"])
            self.base_margin = tf.constant(a["base_margin"])
            self.depth = a["depth"]
        else:
            a = common.linear_arrays(spec)
            self.mean = tf.constant(a["mean"])
            self.scale = tf.constant(a["scale"])
            self.weights = tf.constant(a["weights"])
            self.bias = tf.constant(a["bias"])
        self.serve = tf.function(
            self._serve, input_signature=[tf.TensorSpec([None, f], tf.float32, name="features")])

    def _margin_trees(self, x):
        n = tf.shape(x)[0]
        t = tf.shape(self.feature)[0]
        trees = tf.broadcast_to(tf.range(t)[tf.newaxis, :], [n, t])
        node = tf.zeros([n, t], tf.int32)
        for _ in range(self.depth):
            idx = tf.stack([trees, node], axis=-1)
            f = tf.gather_nd(self.feature, idx)
            xv = tf.gather(x, f, batch_dims=1)
            go_left = tf.where(tf.math.is_nan(xv), tf.gather_nd(self.default_left, idx),
                               xv < tf.gather_nd(self.threshold, idx))
            node = tf.where(go_left, tf.gather_nd(self.left, idx), tf.gather_nd(self.right, idx))
        leaves = tf.cast(tf.gather_nd(self.value, tf.stack([trees, node], axis=-1)), tf.float64)
        return tf.matmul(leaves, self.target_onehot) + self.base_margin

    def _margin_linear(self, x):
        v = tf.cast(x, tf.float64)
        v = tf.where(tf.math.is_nan(v), tf.broadcast_to(self.mean, tf.shape(v)), v)
        return tf.matmul((v - self.mean) / self.scale, self.weights, transpose_b=True) + self.bias

    def _serve(self, features):
        if self.estimator == "xgboost":
            margin = self._margin_trees(features)
            if self.task == "multiclass_classification":
                scores = tf.nn.softmax(margin, axis=1)
            elif self.task == "binary_classification":
                scores = tf.sigmoid(margin[:, 0])
            else:
                scores = margin[:, 0]
        else:
            z = self._margin_linear(features)
            if self.task == "multiclass_classification":  # one-vs-rest, normalized (liblinear)
                s = tf.sigmoid(z)
                scores = s / tf.reduce_sum(s, axis=1, keepdims=True)
            elif self.task == "binary_classification":
                scores = tf.sigmoid(z[:, 0])
            else:
                scores = z[:, 0]
        return {"scores": tf.cast(scores, tf.float32)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    spec = common.load_json(args.spec)
    model = Model(spec)
    tf.saved_model.save(model, args.out, signatures={"serving_default": model.serve})
    f = spec["numFeatures"]
    common.answer({
        "layout": {
            "folder": "saved_model",
            "signature": "serving_default",
            "input": {"name": "features", "dtype": "float32", "shape": ["N", f],
                      "features": spec["featureNames"]},
            "output": {"name": "scores", "dtype": "float32",
                       "shape": ["N", spec["numOutputs"]] if spec["task"] == "multiclass_classification" else ["N"]},
        },
        "versions": {"tensorflow": tf.__version__},
    })


if __name__ == "__main__":
    main()
