#include "export/tabular_ir.h"

#include <cmath>
#include <cstdlib>
#include <functional>

#include "common/strings.h"

namespace tsml::exporting {
namespace {

using common::StrCat;
using train::tabular::Task;

// XGBoost writes numbers in its JSON parameters as strings ("5E-1").
double ParamNumber(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::strtod(v.get<std::string>().c_str(), nullptr);
  return 0;
}

std::vector<double> NumberArray(const Json& j, const char* key) {
  std::vector<double> out;
  for (const Json& v : j.at(key)) out.push_back(v.is_boolean() ? v.get<bool>() : v.get<double>());
  return out;
}

}  // namespace

int Tree::Depth() const {
  std::function<int(int)> depth = [&](int i) -> int {
    const TreeNode& n = nodes[i];
    return n.leaf ? 0 : 1 + std::max(depth(n.left), depth(n.right));
  };
  return nodes.empty() ? 0 : depth(0);
}

absl::StatusOr<TreeEnsemble> ParseXgboostJson(const Json& model) {
  TreeEnsemble e;
  try {
    const Json& learner = model.at("learner");
    const Json& gb = learner.at("gradient_booster");
    const std::string booster = gb.value("name", "");
    if (booster != "gbtree") {
      return absl::InvalidArgumentError(
          StrCat("cannot export an XGBoost '", booster, "' booster (only gbtree)"));
    }
    e.objective = learner.at("objective").at("name").get<std::string>();
    const Json& lp = learner.at("learner_model_param");
    const int num_class = static_cast<int>(ParamNumber(lp.value("num_class", Json("0"))));
    e.num_outputs = num_class > 1 ? num_class : 1;
    double base = 0.5;
    if (lp.contains("base_score")) {
      const Json& b = lp["base_score"];
      // 1.7 writes "5E-1"; 2.x+ may write "[5E-1]".
      if (b.is_string()) {
        std::string s = b.get<std::string>();
        if (!s.empty() && s.front() == '[') s = s.substr(1);
        base = std::strtod(s.c_str(), nullptr);
      } else {
        base = ParamNumber(b);
      }
    }
    double margin;
    if (e.objective == "binary:logistic" || e.objective == "reg:logistic") {
      margin = std::log(base / (1 - base));
    } else if (e.objective == "multi:softprob" || e.objective == "multi:softmax" ||
               e.objective == "reg:squarederror" || e.objective == "binary:logitraw") {
      margin = base;
    } else {
      return absl::InvalidArgumentError(
          StrCat("cannot export XGBoost objective '", e.objective, "'"));
    }
    e.base_margin.assign(e.num_outputs, static_cast<float>(margin));
    const Json& m = gb.at("model");
    std::vector<int> tree_info;
    for (const Json& t : m.at("tree_info")) tree_info.push_back(t.get<int>());
    const Json& trees = m.at("trees");
    if (tree_info.size() != trees.size()) return absl::InvalidArgumentError("tree_info mismatch");
    for (size_t t = 0; t < trees.size(); ++t) {
      const Json& tj = trees[t];
      const auto left = NumberArray(tj, "left_children");
      const auto right = NumberArray(tj, "right_children");
      const auto index = NumberArray(tj, "split_indices");
      const auto cond = NumberArray(tj, "split_conditions");
      const auto dleft = NumberArray(tj, "default_left");
      if (tj.contains("split_type")) {
        for (const Json& s : tj["split_type"]) {
          if (s.get<int>() != 0)
            return absl::InvalidArgumentError("categorical splits are not exported");
        }
      }
      const size_t n = left.size();
      if (right.size() != n || index.size() != n || cond.size() != n || dleft.size() != n) {
        return absl::InvalidArgumentError("malformed XGBoost tree");
      }
      Tree tree;
      tree.target = tree_info[t];
      if (tree.target < 0 || tree.target >= e.num_outputs) {
        return absl::InvalidArgumentError("tree target out of range");
      }
      tree.nodes.resize(n);
      for (size_t i = 0; i < n; ++i) {
        TreeNode& node = tree.nodes[i];
        node.leaf = left[i] < 0;
        if (node.leaf) {
          node.value = static_cast<float>(cond[i]);
        } else {
          node.left = static_cast<int>(left[i]);
          node.right = static_cast<int>(right[i]);
          if (node.left <= 0 || node.right <= 0 || static_cast<size_t>(node.left) >= n ||
              static_cast<size_t>(node.right) >= n) {
            return absl::InvalidArgumentError("malformed XGBoost tree children");
          }
          node.feature = static_cast<int>(index[i]);
          node.threshold = static_cast<float>(cond[i]);
          node.default_left = dleft[i] != 0;
        }
      }
      e.trees.push_back(std::move(tree));
    }
  } catch (const std::exception& ex) {
    return absl::InvalidArgumentError(StrCat("unreadable XGBoost model: ", ex.what()));
  }
  return e;
}

absl::StatusOr<TabularIr> BuildTabularIr(const train::tabular::TabularModel& model) {
  TabularIr ir;
  ir.task = model.task();
  ir.task_name = std::string(train::tabular::TaskName(model.task()));
  ir.classes = model.classes();
  ir.threshold = model.threshold();
  ir.transform = &model.transform();
  if (ir.task == Task::kBinary && ir.classes.size() != 2) ir.classes = {"0", "1"};
  if (const auto* booster = model.booster()) {
    auto json = booster->SaveJson();
    if (!json.ok()) return json.status();
    auto parsed = common::ParseJson(*json, 4096);
    if (!parsed.ok()) return absl::InternalError("xgboost produced invalid JSON");
    auto trees = ParseXgboostJson(*parsed);
    if (!trees.ok()) return trees.status();
    if (static_cast<size_t>(trees->num_outputs) != ir.num_outputs()) {
      return absl::InvalidArgumentError("the booster's outputs do not match the model's classes");
    }
    for (const Tree& t : trees->trees) {
      for (const TreeNode& n : t.nodes) {
        if (!n.leaf && (n.feature < 0 || static_cast<size_t>(n.feature) >= ir.num_features())) {
          return absl::InvalidArgumentError("a tree splits on a feature the transform lacks");
        }
      }
    }
    ir.trees = *std::move(trees);
  } else if (const auto* linear = model.linear()) {
    if (linear->weights.size() != ir.num_outputs()) {
      return absl::InvalidArgumentError("the linear model's outputs do not match its classes");
    }
    ir.linear = linear;
  } else {
    return absl::InvalidArgumentError("the model has no estimator");
  }
  return ir;
}

Json TreesToJson(const TreeEnsemble& e) {
  Json trees = Json::array();
  int max_depth = 0;
  for (const Tree& t : e.trees) {
    Json left = Json::array(), right = Json::array(), feature = Json::array(),
         threshold = Json::array(), dleft = Json::array(), value = Json::array(),
         leaf = Json::array();
    for (const TreeNode& n : t.nodes) {
      left.push_back(n.left);
      right.push_back(n.right);
      feature.push_back(n.feature);
      threshold.push_back(n.threshold);
      dleft.push_back(n.default_left ? 1 : 0);
      value.push_back(n.value);
      leaf.push_back(n.leaf ? 1 : 0);
    }
    max_depth = std::max(max_depth, t.Depth());
    trees.push_back({{"target", t.target},
                     {"left", left},
                     {"right", right},
                     {"feature", feature},
                     {"threshold", threshold},
                     {"defaultLeft", dleft},
                     {"value", value},
                     {"leaf", leaf}});
  }
  return {{"objective", e.objective},
          {"baseMargin", e.base_margin},
          {"maxDepth", max_depth},
          {"trees", std::move(trees)}};
}

Json IrToJson(const TabularIr& ir) {
  Json j = {{"task", ir.task_name},
            {"classes", ir.classes},
            {"threshold", ir.threshold},
            {"transform", ir.transform->ToJson()},
            {"featureNames", ir.transform->feature_names()},
            {"numFeatures", ir.num_features()},
            {"numOutputs", ir.num_outputs()},
            {"hashed", ir.hashed}};
  if (ir.trees) {
    j["estimator"] = "xgboost";
    j["trees"] = TreesToJson(*ir.trees);
  } else {
    j["estimator"] = "linear";
    j["linear"] = ir.linear->ToJson();
  }
  return j;
}

}  // namespace tsml::exporting
