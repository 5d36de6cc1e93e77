"""Writes a tsml tabular model as a TorchScript module.

The module takes the encoded features (float32 [N, F], NaN = missing; sample.json
`encodedInputs`) and returns the scores: the positive-class probability [N] (binary), class
probabilities [N, K] (multiclass), or values [N] (regression). XGBoost trees run as tensor
operations (a batched traversal of all trees at once, `depth` gather steps, Hummingbird's
"tree traversal" strategy); linear models directly.

usage: to_torch.py --spec spec.json --out model.pt
"""
import argparse
import os
from typing import Dict, List, Tuple

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import common  # noqa: E402

TASKS = {"binary_classification": 0, "multiclass_classification": 1, "regression": 2}


class Trees(torch.nn.Module):
    def __init__(self, a, task: int):
        super().__init__()
        self.register_buffer("feature", torch.from_numpy(a["feature"]))
        self.register_buffer("threshold", torch.from_numpy(a["threshold"]))
        self.register_buffer("left", torch.from_numpy(a["left"]))
        self.register_buffer("right", torch.from_numpy(a["right"]))
        self.register_buffer("default_left", torch.from_numpy(a["default_left"]))
        self.register_buffer("value", torch.from_numpy(a["value"]))
        self.register_buffer("target_onehot", torch.from_numpy(a["target_onehot"]))
        self.register_buffer("base_margin", torch.from_numpy(a["base_margin"]))
        self.depth = int(a["depth"])
        self.task = task

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32)
        n = x.shape[0]
        t = self.feature.shape[0]
        trees = torch.arange(t).unsqueeze(0).expand(n, t)
        node = torch.zeros((n, t), dtype=torch.long)
        for _ in range(self.depth):
            f = self.feature[trees, node]
            xv = torch.gather(x, 1, f)
            go_left = torch.where(torch.isnan(xv), self.default_left[trees, node],
                                  xv < self.threshold[trees, node])
            node = torch.where(go_left, self.left[trees, node], self.right[trees, node])
        leaves = self.value[trees, node].to(torch.float64)
        margin = leaves @ self.target_onehot + self.base_margin
        if self.task == 0:
            return torch.sigmoid(margin[:, 0]).to(torch.float32)
        if self.task == 1:
            return torch.softmax(margin, dim=1).to(torch.float32)
        return margin[:, 0].to(torch.float32)


class Linear(torch.nn.Module):
    def __init__(self, a, task: int):
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(a["mean"]))
        self.register_buffer("scale", torch.from_numpy(a["scale"]))
        self.register_buffer("weights", torch.from_numpy(a["weights"]))
        self.register_buffer("bias", torch.from_numpy(a["bias"]))
        self.task = task

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = x.to(torch.float64)
        v = torch.where(torch.isnan(v), self.mean.unsqueeze(0).expand_as(v), v)
        z = ((v - self.mean) / self.scale) @ self.weights.t() + self.bias
        if self.task == 0:
            return torch.sigmoid(z[:, 0]).to(torch.float32)
        if self.task == 1:  # one-vs-rest, normalized (liblinear)
            s = torch.sigmoid(z)
            return (s / s.sum(dim=1, keepdim=True)).to(torch.float32)
        return z[:, 0].to(torch.float32)


class Recommender(torch.nn.Module):
    """ALS: score = user factors · item factors; the user's training items excluded; unknown
    users get item popularity; ties keep the item order (stable sort), as the service does."""

    def __init__(self, spec):
        super().__init__()
        f = int(spec["factors"])
        self.user_index: Dict[str, int] = {u: i for i, u in enumerate(spec["userIds"])}
        self.item_ids: List[str] = list(spec["itemIds"])
        self.register_buffer("user_factors", torch.tensor(spec["userFactors"], dtype=torch.float32).reshape(-1, f))
        self.register_buffer("item_factors", torch.tensor(spec["itemFactors"], dtype=torch.float32).reshape(-1, f))
        self.register_buffer("popularity", torch.tensor(spec["popularity"], dtype=torch.float32))
        self.register_buffer("seen_ptr", torch.tensor(spec["seenPtr"], dtype=torch.long))
        self.register_buffer("seen_index", torch.tensor(spec["seenIndex"], dtype=torch.long))

    def forward(self, user_ids: List[str], k: int) -> Tuple[List[List[str]], torch.Tensor]:
        n = len(user_ids)
        scores = torch.empty((n, self.item_factors.shape[0]), dtype=torch.float32)
        for r in range(n):
            u = self.user_index.get(user_ids[r], -1)
            if u < 0:
                scores[r] = self.popularity
            else:
                s = self.item_factors @ self.user_factors[u]
                a = int(self.seen_ptr[u])
                b = int(self.seen_ptr[u + 1])
                s[self.seen_index[a:b]] = float("-inf")
                scores[r] = s
        values, order = torch.sort(scores, dim=1, descending=True, stable=True)
        values = values[:, :k]
        top: List[List[int]] = order[:, :k].tolist()
        items: List[List[str]] = []
        for row in top:
            ids: List[str] = []
            for j in row:
                ids.append(self.item_ids[j])
            items.append(ids)
        return items, values


class FastText(torch.nn.Module):
    """fastText supervised prediction: forward(ids int64 [N, T], padded with -1) -> class
    probabilities float32 [N, classes]: softmax(output . mean of the ids' input rows), plus
    fastText's 1e-5, renormalized, columns in class order."""

    def __init__(self, spec):
        super().__init__()
        dim, rows = int(spec["dim"]), int(spec["rows"])
        matrix = np.fromfile(spec["inputPath"], dtype="<f4").reshape(rows, dim)
        self.register_buffer("input_rows", torch.from_numpy(matrix.copy()))
        output = np.asarray(spec["output"], np.float32).reshape(-1, dim)
        self.register_buffer("output_t", torch.from_numpy(output.T.copy()))
        column_of_class = [0] * len(spec["classes"])
        for label, cls in enumerate(spec["labelClass"]):
            column_of_class[int(cls)] = label
        self.register_buffer("column_of_class", torch.tensor(column_of_class, dtype=torch.long))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        valid = ids >= 0
        rows = self.input_rows[torch.where(valid, ids, torch.zeros_like(ids))]
        rows = rows * valid.unsqueeze(2).to(torch.float32)
        count = valid.sum(dim=1, keepdim=True).clamp(min=1).to(torch.float32)
        hidden = rows.sum(dim=1) / count
        p = torch.softmax(hidden @ self.output_t, dim=1)
        p = p[:, self.column_of_class] + 1e-5
        return p / p.sum(dim=1, keepdim=True)


class HoltWinters(torch.nn.Module):
    """Per-series Holt-Winters state; forward(groups, horizon) -> float64 [N, horizon]:
    level + slope * sum_{j<=k} phi^j + seasonal[(n + k - 1) mod season], clamped at 0 for
    series that were never negative; "" or "__total__" is the total, an unknown group NaN."""

    def __init__(self, spec):
        super().__init__()
        names = list(spec["names"])
        total = int(spec["total"])
        self.index: Dict[str, int] = {name: i for i, name in enumerate(names) if i != total}
        for key in ("", "__total__"):
            if key not in self.index:
                self.index[key] = total
        width = max([1] + [int(s) for s in spec["season"]])
        seasonal = np.zeros((len(names), width), np.float64)
        for i, values in enumerate(spec["seasonal"]):
            seasonal[i, :len(values)] = values
        self.register_buffer("level", torch.tensor(spec["level"], dtype=torch.float64))
        self.register_buffer("slope", torch.tensor(spec["slope"], dtype=torch.float64))
        self.register_buffer("phi", torch.tensor(spec["phi"], dtype=torch.float64))
        self.register_buffer("non_negative", torch.tensor(spec["nonNegative"], dtype=torch.bool))
        self.register_buffer("n", torch.tensor(spec["n"], dtype=torch.long))
        self.register_buffer("season", torch.tensor([max(1, int(s)) for s in spec["season"]],
                                                    dtype=torch.long))
        self.register_buffer("seasonal", torch.from_numpy(seasonal))
        self.max_horizon = int(spec["maxHorizon"])

    def forward(self, groups: List[str], horizon: int) -> torch.Tensor:
        if horizon < 1 or horizon > self.max_horizon:
            raise ValueError("horizon must be between 1 and the model's maxHorizon")
        out = torch.full((len(groups), horizon), float("nan"), dtype=torch.float64)
        steps = torch.arange(1, horizon + 1, dtype=torch.float64)
        for r in range(len(groups)):
            i = self.index.get(groups[r], -1)
            if i < 0:
                continue
            damp = torch.cumsum(torch.pow(self.phi[i], steps), dim=0)
            pos = torch.remainder(self.n[i] + torch.arange(horizon), self.season[i])
            v = self.level[i] + self.slope[i] * damp + self.seasonal[i][pos]
            if bool(self.non_negative[i]):
                v = torch.clamp(v, min=0.0)
            out[r] = v
        return out


# Modules over their own inputs rather than the encoded features: spec kind -> (module, layout).
OWN_INPUTS = {
    "fasttext": (FastText, {
        "input": {"ids": "int64 [N, T], fastText input ids padded with -1"},
        "output": "float32 [N, classes] (classes in `classes` order)"}),
    "holt_winters": (HoltWinters, {
        "input": {"groups": "List[str] (\"\" = the total)", "horizon": "int"},
        "output": "float64 [N, horizon] (NaN for an unknown group)"}),
    "recommendation": (Recommender, {
        "input": {"user_ids": "List[str]", "k": "int"},
        "output": ["item ids List[List[str]] [N][k]", "scores float32 [N, k]"]}),
}


def build(spec):
    task = TASKS[spec["task"]]
    if spec["estimator"] == "xgboost":
        return Trees(common.padded_trees(spec), task)
    return Linear(common.linear_arrays(spec), task)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    spec = common.load_json(args.spec)
    kind = spec.get("kind")
    if kind in OWN_INPUTS:
        module_class, layout = OWN_INPUTS[kind]
        torch.jit.script(module_class(spec)).save(args.out)
        common.answer({"layout": {"file": "model.pt", **layout},
                       "versions": {"torch": torch.__version__}})
        return
    module = torch.jit.script(build(spec))
    module.save(args.out)
    f = spec["numFeatures"]
    common.answer({
        "layout": {
            "file": "model.pt",
            "input": {"name": "x", "dtype": "float32", "shape": ["N", f],
                      "features": spec["featureNames"]},
            "output": {"dtype": "float32",
                       "shape": ["N", spec["numOutputs"]] if spec["task"] == "multiclass_classification" else ["N"]},
            "trees": "batched traversal" if spec["estimator"] == "xgboost" else None,
        },
        "versions": {"torch": torch.__version__},
    })


if __name__ == "__main__":
    main()
