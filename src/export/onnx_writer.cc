#include "export/onnx_writer.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "data/csv_import.h"
#include "onnx/checker.h"
#include "onnx/onnx-ml.pb.h"

namespace tsml::exporting {
namespace {

using common::StrCat;
using data::ColumnTransform;
using data::FeatureKind;
using train::tabular::Task;

constexpr int kOnnxOpset = 15;
constexpr int kOnnxMlOpset = 3;
constexpr int kIrVersion = 8;
constexpr char kMl[] = "ai.onnx.ml";

// Producer, opsets (ai.onnx and ai.onnx.ml) and metadata shared by every exported model.
void InitModel(onnx::ModelProto& model, const Json& metadata, const std::string& doc) {
  model.set_ir_version(kIrVersion);
  model.set_producer_name("tsml");
  model.set_producer_version(metadata.value("tsmlVersion", ""));
  model.set_domain("ai.tsml");
  model.set_model_version(1);
  model.set_doc_string(doc);
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(kOnnxOpset);
  op = model.add_opset_import();
  op->set_domain(kMl);
  op->set_version(kOnnxMlOpset);
  for (const auto& [k, v] : metadata.items()) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v.is_string() ? v.get<std::string>() : v.dump());
  }
}

// Every spelling that data::IsMissingValue treats as missing (case-insensitive), and "".
std::vector<std::string> MissingTokens() {
  std::vector<std::string> out = {""};
  for (std::string_view base : data::kMissingSpellings) {
    std::vector<std::string> variants = {""};
    for (char c : base) {
      std::vector<std::string> next;
      for (const std::string& v : variants) {
        next.push_back(v + c);
        if (std::isalpha(static_cast<unsigned char>(c))) {
          next.push_back(v + static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
      }
      variants = std::move(next);
    }
    out.insert(out.end(), variants.begin(), variants.end());
  }
  return out;
}

// Builds nodes with unique output names.
class Graph {
 public:
  explicit Graph(onnx::GraphProto* g) : g_(g) {}

  onnx::NodeProto* Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const char* domain = "") {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(StrCat(op, "_", count_++));
    if (*domain) n->set_domain(domain);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }
  // One-output node; returns the output's name.
  std::string Op(const std::string& op, const std::vector<std::string>& inputs,
                 const char* domain = "", onnx::NodeProto** node = nullptr) {
    const std::string out = Fresh(op);
    onnx::NodeProto* n = Node(op, inputs, {out}, domain);
    if (node) *node = n;
    return out;
  }
  // Internal names live under "tsml/", apart from the raw column names used as inputs.
  std::string Fresh(const std::string& prefix) { return StrCat("tsml/", prefix, "_", count_++); }

  std::string ConstI64(const std::vector<int64_t>& v, bool scalar = false) {
    onnx::TensorProto* t = g_->add_initializer();
    const std::string name = Fresh("i64");
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar) t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return name;
  }
  std::string I64(int64_t v) {
    auto it = i64_.find(v);
    if (it != i64_.end()) return it->second;
    return i64_[v] = ConstI64({v}, true);
  }
  std::string ConstF32(float v) {
    onnx::TensorProto* t = g_->add_initializer();
    const std::string name = Fresh("f32");
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_float_data(v);
    return name;
  }
  std::string ConstF64(double v) {
    onnx::TensorProto* t = g_->add_initializer();
    const std::string name = Fresh("f64");
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::DOUBLE);
    t->add_double_data(v);
    return name;
  }

  // int64 helpers with floor semantics (Mod with fmod=0 takes the divisor's sign).
  std::string Add(const std::string& a, int64_t b) { return Op("Add", {a, I64(b)}); }
  std::string Sub(const std::string& a, const std::string& b) { return Op("Sub", {a, b}); }
  std::string Mul(const std::string& a, int64_t b) { return Op("Mul", {a, I64(b)}); }
  std::string Div(const std::string& a, int64_t b) { return Op("Div", {a, I64(b)}); }  // a >= 0
  std::string Mod(const std::string& a, int64_t b) {
    onnx::NodeProto* n;
    const std::string out = Op("Mod", {a, I64(b)}, "", &n);
    AttrInt(n, "fmod", 0);
    return out;
  }
  std::string FloorDiv(const std::string& a, int64_t b) { return Div(Sub(a, Mod(a, b)), b); }
  std::string Cast(const std::string& a, int to) {
    onnx::NodeProto* n;
    const std::string out = Op("Cast", {a}, "", &n);
    AttrInt(n, "to", to);
    return out;
  }

  static void AttrInt(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void AttrFloat(onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void AttrString(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void AttrInts(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void AttrFloats(onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float x : v) a->add_floats(x);
  }
  static void AttrStrings(onnx::NodeProto* n, const std::string& name,
                          const std::vector<std::string>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& x : v) a->add_strings(x);
  }

 private:
  onnx::GraphProto* g_;
  int count_ = 0;
  std::map<int64_t, std::string> i64_;
};

void AddValueInfo(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                  const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  auto* shape = tensor->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d == -2) {
      dim->set_dim_param("T");
    } else if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

// Checks `model` and writes it to `path` (temp name, fsync, rename).
absl::Status CheckAndWrite(const onnx::ModelProto& model, const std::string& path) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("the ONNX checker rejected the exported graph: ", e.what()));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the ONNX model");
  }
  return common::WriteFileAtomic(path, bytes);
}

std::string TypeName(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT:
      return "float32";
    case onnx::TensorProto::DOUBLE:
      return "float64";
    case onnx::TensorProto::STRING:
      return "string";
    case onnx::TensorProto::INT64:
      return "int64";
  }
  return "unknown";
}

// Calendar features (dow, month, hour, doy) of a float64 epoch-millis column, as in
// data::FeatureTransform::EncodeTimestamp, in exact int64 arithmetic.
std::string TimestampBlock(Graph& g, const std::string& input) {
  const std::string nan = g.Op("IsNaN", {input});
  const std::string t0 = g.Op("Where", {nan, g.ConstF64(0), input});
  const std::string ms = g.Cast(t0, onnx::TensorProto::INT64);  // truncates, as static_cast
  const std::string days = g.FloorDiv(ms, 86400000);
  const std::string hour = g.Div(g.Sub(ms, g.Mul(days, 86400000)), 3600000);
  const std::string dow = g.Mod(g.Add(days, 4), 7);
  const std::string z = g.Add(days, 719468);
  const std::string era = g.FloorDiv(z, 146097);
  const std::string doe = g.Sub(z, g.Mul(era, 146097));
  const std::string yoe = g.Div(
      g.Sub(g.Op("Add", {g.Sub(doe, g.Div(doe, 1460)), g.Div(doe, 36524)}), g.Div(doe, 146096)),
      365);
  const std::string doy_mar =
      g.Sub(doe, g.Sub(g.Op("Add", {g.Mul(yoe, 365), g.Div(yoe, 4)}), g.Div(yoe, 100)));
  const std::string mp = g.Div(g.Add(g.Mul(doy_mar, 5), 2), 153);
  const std::string month =
      g.Op("Where", {g.Op("Less", {mp, g.I64(10)}), g.Add(mp, 3), g.Add(mp, -9)});
  const std::string y = g.Op("Add", {yoe, g.Mul(era, 400)});
  const std::string year =
      g.Op("Add", {y, g.Cast(g.Op("Less", {month, g.I64(3)}), onnx::TensorProto::INT64)});
  // Day of year: days - DaysFromCivil(year, 1, 1) + 1.
  const std::string yp = g.Add(year, -1);
  const std::string era2 = g.FloorDiv(yp, 400);
  const std::string yoe2 = g.Sub(yp, g.Mul(era2, 400));
  const std::string doe2 =
      g.Add(g.Sub(g.Op("Add", {g.Mul(yoe2, 365), g.Div(yoe2, 4)}), g.Div(yoe2, 100)), 306);
  const std::string jan1 = g.Add(g.Op("Add", {g.Mul(era2, 146097), doe2}), -719468);
  const std::string doy = g.Add(g.Sub(days, jan1), 1);
  const std::string fnan = g.ConstF32(std::numeric_limits<float>::quiet_NaN());
  std::vector<std::string> parts;
  for (const std::string& v : {dow, month, hour, doy}) {
    parts.push_back(g.Op("Where", {nan, fnan, g.Cast(v, onnx::TensorProto::FLOAT)}));
  }
  onnx::NodeProto* n;
  const std::string out = g.Op("Concat", parts, "", &n);
  Graph::AttrInt(n, "axis", 1);
  return out;
}

std::string CategoricalBlock(Graph& g, const ColumnTransform& c, const std::string& input,
                             const HashedValues& hashed) {
  const int64_t width = static_cast<int64_t>(data::FeatureTransform::Width(c));
  std::vector<std::string> keys;
  std::vector<int64_t> values;
  std::set<std::string> seen;
  auto add = [&](const std::string& k, int64_t v) {
    if (seen.insert(k).second) {
      keys.push_back(k);
      values.push_back(v);
    }
  };
  for (size_t i = 0; i < c.levels.size(); ++i) add(c.levels[i], static_cast<int64_t>(i));
  for (const std::string& m : MissingTokens()) add(m, c.missing_level ? width - 1 : -1);
  if (c.hash_buckets > 0) {
    auto it = hashed.find(c.column);
    if (it != hashed.end()) {
      for (const auto& [value, bucket] : it->second) {
        add(value, static_cast<int64_t>(c.levels.size()) + bucket);
      }
    }
  }
  onnx::NodeProto* enc;
  const std::string index = g.Op("LabelEncoder", {input}, kMl, &enc);
  Graph::AttrStrings(enc, "keys_strings", keys);
  Graph::AttrInts(enc, "values_int64s", values);
  Graph::AttrInt(enc, "default_int64", c.other ? static_cast<int64_t>(c.levels.size()) : -1);
  onnx::NodeProto* oh;
  const std::string onehot = g.Op("OneHotEncoder", {index}, kMl, &oh);
  std::vector<int64_t> cats(width);
  for (int64_t i = 0; i < width; ++i) cats[i] = i;
  Graph::AttrInts(oh, "cats_int64s", cats);
  Graph::AttrInt(oh, "zeros", 1);
  return g.Op("Reshape", {onehot, g.ConstI64({-1, width})});
}

void TreeAttributes(onnx::NodeProto* n, const TreeEnsemble& e, bool classifier) {
  std::vector<int64_t> tree_ids, node_ids, feature_ids, true_ids, false_ids, missing_true;
  std::vector<float> values;
  std::vector<std::string> modes;
  std::vector<int64_t> leaf_tree, leaf_node, leaf_target;
  std::vector<float> leaf_weight;
  for (size_t t = 0; t < e.trees.size(); ++t) {
    const Tree& tree = e.trees[t];
    for (size_t i = 0; i < tree.nodes.size(); ++i) {
      const TreeNode& node = tree.nodes[i];
      tree_ids.push_back(static_cast<int64_t>(t));
      node_ids.push_back(static_cast<int64_t>(i));
      if (node.leaf) {
        feature_ids.push_back(0);
        values.push_back(0);
        modes.push_back("LEAF");
        true_ids.push_back(0);
        false_ids.push_back(0);
        missing_true.push_back(0);
        leaf_tree.push_back(static_cast<int64_t>(t));
        leaf_node.push_back(static_cast<int64_t>(i));
        leaf_target.push_back(tree.target);
        leaf_weight.push_back(node.value);
      } else {
        feature_ids.push_back(node.feature);
        values.push_back(node.threshold);
        modes.push_back("BRANCH_LT");
        true_ids.push_back(node.left);
        false_ids.push_back(node.right);
        missing_true.push_back(node.default_left ? 1 : 0);
      }
    }
  }
  Graph::AttrInts(n, "nodes_treeids", tree_ids);
  Graph::AttrInts(n, "nodes_nodeids", node_ids);
  Graph::AttrInts(n, "nodes_featureids", feature_ids);
  Graph::AttrFloats(n, "nodes_values", values);
  Graph::AttrStrings(n, "nodes_modes", modes);
  Graph::AttrInts(n, "nodes_truenodeids", true_ids);
  Graph::AttrInts(n, "nodes_falsenodeids", false_ids);
  Graph::AttrInts(n, "nodes_missing_value_tracks_true", missing_true);
  const std::string prefix = classifier ? "class_" : "target_";
  Graph::AttrInts(n, prefix + "treeids", leaf_tree);
  Graph::AttrInts(n, prefix + "nodeids", leaf_node);
  Graph::AttrInts(n, prefix + "ids", leaf_target);
  Graph::AttrFloats(n, prefix + "weights", leaf_weight);
}

}  // namespace

absl::Status WriteTabularOnnx(const TabularIr& ir, const Json& metadata, const std::string& path,
                              Json* layout) {
  onnx::ModelProto model;
  InitModel(
      model, metadata,
      StrCat("tsml ", metadata.value("modelType", ""), " (", ir.task_name, "): raw columns in, ",
             ir.task == Task::kRegression ? "value" : "label and probabilities", " out"));

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_tabular");
  Graph g(graph);
  Json inputs = Json::array(), outputs = Json::array();

  // The transformation: one block per raw column, concatenated.
  std::vector<std::string> blocks;
  for (const ColumnTransform& c : ir.transform->columns()) {
    int type = onnx::TensorProto::FLOAT;
    if (c.kind == FeatureKind::kCategorical) type = onnx::TensorProto::STRING;
    if (c.kind == FeatureKind::kTimestamp) type = onnx::TensorProto::DOUBLE;
    AddValueInfo(graph->mutable_input(), c.column, type, {-1, 1});
    inputs.push_back({{"name", c.column}, {"type", TypeName(type)}, {"shape", {"N", 1}}});
    switch (c.kind) {
      case FeatureKind::kNumeric:
        if (c.missing_indicator) {
          const std::string ind = g.Cast(g.Op("IsNaN", {c.column}), onnx::TensorProto::FLOAT);
          onnx::NodeProto* n;
          blocks.push_back(g.Op("Concat", {c.column, ind}, "", &n));
          Graph::AttrInt(n, "axis", 1);
        } else {
          blocks.push_back(c.column);
        }
        break;
      case FeatureKind::kCategorical:
        blocks.push_back(CategoricalBlock(g, c, c.column, ir.hashed));
        break;
      case FeatureKind::kTimestamp:
        blocks.push_back(TimestampBlock(g, c.column));
        break;
    }
  }
  // Output names, unless a raw column already has one of them.
  std::set<std::string> column_names;
  for (const ColumnTransform& c : ir.transform->columns()) column_names.insert(c.column);
  auto output_name = [&](const std::string& name) {
    return column_names.count(name) ? "tsml_" + name : name;
  };
  const std::string label = output_name("label"), probabilities = output_name("probabilities"),
                    value = output_name("value"), features = "tsml/features";
  onnx::NodeProto* concat = g.Node("Concat", blocks, {features});
  Graph::AttrInt(concat, "axis", 1);

  const int64_t classes = static_cast<int64_t>(ir.classes.size());
  const bool classification = ir.task != Task::kRegression;
  if (ir.trees) {
    const TreeEnsemble& e = *ir.trees;
    if (classification) {
      onnx::NodeProto* n =
          g.Node("TreeEnsembleClassifier", {features}, {label, probabilities}, kMl);
      const bool binary = ir.task == Task::kBinary;
      TreeAttributes(n, e, true);
      Graph::AttrStrings(n, "classlabels_strings", ir.classes);
      if (binary) {
        // Two labels, every leaf on class id 0 and one base value: onnxruntime's binary
        // case, probabilities [1 - σ(margin), σ(margin)] (as onnxmltools writes XGBoost).
        Graph::AttrFloats(n, "base_values", {e.base_margin[0]});
        Graph::AttrString(n, "post_transform", "LOGISTIC");
      } else {
        Graph::AttrFloats(n, "base_values", e.base_margin);
        Graph::AttrString(n, "post_transform", "SOFTMAX");
      }
    } else {
      onnx::NodeProto* n = g.Node("TreeEnsembleRegressor", {features}, {value}, kMl);
      TreeAttributes(n, e, false);
      Graph::AttrInt(n, "n_targets", 1);
      Graph::AttrFloats(n, "base_values", e.base_margin);
      Graph::AttrString(n, "aggregate_function", "SUM");
      Graph::AttrString(n, "post_transform", "NONE");
    }
  } else {
    const train::tabular::LinearModel& m = *ir.linear;
    const size_t f = ir.num_features();
    std::vector<float> mean(f), inv_scale(f);
    for (size_t j = 0; j < f; ++j) {
      mean[j] = static_cast<float>(m.mean[j]);
      inv_scale[j] = static_cast<float>(1.0 / m.scale[j]);
    }
    onnx::NodeProto* imp;
    const std::string imputed = g.Op("Imputer", {features}, kMl, &imp);
    Graph::AttrFloats(imp, "imputed_value_floats", mean);
    Graph::AttrFloat(imp, "replaced_value_float", std::numeric_limits<float>::quiet_NaN());
    onnx::NodeProto* sc;
    const std::string scaled = g.Op("Scaler", {imputed}, kMl, &sc);
    Graph::AttrFloats(sc, "offset", mean);
    Graph::AttrFloats(sc, "scale", inv_scale);
    std::vector<float> coef, intercepts;
    auto add_row = [&](size_t k, float sign) {
      for (size_t j = 0; j < f; ++j) coef.push_back(sign * static_cast<float>(m.weights[k][j]));
      intercepts.push_back(sign * static_cast<float>(m.bias[k]));
    };
    if (ir.task == Task::kBinary) {  // [-w, w]: probabilities [σ(-z), σ(z)]
      add_row(0, -1);
      add_row(0, 1);
    } else {
      for (size_t k = 0; k < m.weights.size(); ++k) add_row(k, 1);
    }
    if (classification) {
      const std::string scores = ir.task == Task::kMulticlass ? g.Fresh("scores") : probabilities;
      onnx::NodeProto* n = g.Node("LinearClassifier", {scaled}, {label, scores}, kMl);
      Graph::AttrFloats(n, "coefficients", coef);
      Graph::AttrFloats(n, "intercepts", intercepts);
      Graph::AttrStrings(n, "classlabels_strings", ir.classes);
      Graph::AttrString(n, "post_transform", "LOGISTIC");
      if (ir.task == Task::kMulticlass) {  // liblinear's one-vs-rest normalization
        onnx::NodeProto* norm = g.Node("Normalizer", {scores}, {probabilities}, kMl);
        Graph::AttrString(norm, "norm", "L1");
      }
    } else {
      onnx::NodeProto* n = g.Node("LinearRegressor", {scaled}, {value}, kMl);
      Graph::AttrFloats(n, "coefficients", coef);
      Graph::AttrFloats(n, "intercepts", intercepts);
      Graph::AttrInt(n, "targets", 1);
    }
  }
  if (classification) {
    AddValueInfo(graph->mutable_output(), label, onnx::TensorProto::STRING, {-1});
    AddValueInfo(graph->mutable_output(), probabilities, onnx::TensorProto::FLOAT, {-1, classes});
    outputs.push_back({{"name", label}, {"type", "string"}, {"shape", {"N"}}});
    outputs.push_back({{"name", probabilities},
                       {"type", "float32"},
                       {"shape", {"N", classes}},
                       {"classes", ir.classes}});
  } else {
    AddValueInfo(graph->mutable_output(), value, onnx::TensorProto::FLOAT, {-1, 1});
    outputs.push_back({{"name", value}, {"type", "float32"}, {"shape", {"N", 1}}});
  }

  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {{"inputs", inputs},
               {"outputs", outputs},
               {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
               {"irVersion", kIrVersion},
               {"nodes", graph->node_size()}};
  }
  return absl::OkStatus();
}

absl::Status WriteRecommendOnnx(const RecommenderArrays& rec, const Json& metadata,
                                const std::string& path, Json* layout) {
  const int64_t users = static_cast<int64_t>(rec.user_ids->size());
  const int64_t items = static_cast<int64_t>(rec.item_ids->size());
  const int64_t f = rec.factors;
  if (static_cast<int64_t>(rec.user_factors.size()) != users * f ||
      static_cast<int64_t>(rec.item_factors.size()) != items * f ||
      static_cast<int64_t>(rec.seen_ptr.size()) != users + 1) {
    return absl::InvalidArgumentError("recommender arrays do not match their ids");
  }
  onnx::ModelProto model;
  InitModel(model, metadata, "tsml recommendation (ALS): user ids in, top-k unseen items out");
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_recommendation");
  Graph g(graph);
  AddValueInfo(graph->mutable_input(), "user_id", onnx::TensorProto::STRING, {-1});
  AddValueInfo(graph->mutable_input(), "k", onnx::TensorProto::INT64, {1});

  auto initializer = [&](const std::string& prefix, int type, const std::vector<int64_t>& dims) {
    onnx::TensorProto* t = graph->add_initializer();
    t->set_name(g.Fresh(prefix));
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    return t;
  };
  // User factors with a zero row for unknown users.
  onnx::TensorProto* uf = initializer("user_factors", onnx::TensorProto::FLOAT, {users + 1, f});
  for (float v : rec.user_factors) uf->add_float_data(v);
  for (int64_t j = 0; j < f; ++j) uf->add_float_data(0);
  onnx::TensorProto* vt = initializer("item_factors_t", onnx::TensorProto::FLOAT, {f, items});
  for (int64_t j = 0; j < f; ++j) {
    for (int64_t i = 0; i < items; ++i) vt->add_float_data(rec.item_factors[i * f + j]);
  }
  onnx::TensorProto* pop = initializer("popularity", onnx::TensorProto::FLOAT, {1, items});
  for (float v : rec.popularity) pop->add_float_data(v);
  onnx::TensorProto* ids = initializer("item_ids", onnx::TensorProto::STRING, {items});
  for (const std::string& id : *rec.item_ids) ids->add_string_data(id);
  const int64_t nnz = static_cast<int64_t>(rec.seen_index.size());
  onnx::TensorProto* seen_user = initializer("seen_user", onnx::TensorProto::INT64, {nnz});
  onnx::TensorProto* seen_item = initializer("seen_item", onnx::TensorProto::INT64, {nnz});
  for (int64_t u = 0; u < users; ++u) {
    for (int64_t e = rec.seen_ptr[u]; e < rec.seen_ptr[u + 1]; ++e) {
      seen_user->add_int64_data(u);
      seen_item->add_int64_data(rec.seen_index[e]);
    }
  }

  // user index (unknown → `users`, the zero row).
  onnx::NodeProto* enc;
  const std::string index = g.Op("LabelEncoder", {"user_id"}, kMl, &enc);
  std::vector<int64_t> positions(users);
  for (int64_t u = 0; u < users; ++u) positions[u] = u;
  Graph::AttrStrings(enc, "keys_strings", *rec.user_ids);
  Graph::AttrInts(enc, "values_int64s", positions);
  Graph::AttrInt(enc, "default_int64", users);
  onnx::NodeProto* gather;
  const std::string user_vec = g.Op("Gather", {uf->name(), index}, "", &gather);
  Graph::AttrInt(gather, "axis", 0);
  const std::string raw = g.Op("MatMul", {user_vec, vt->name()});
  const std::string index_col = g.Op("Unsqueeze", {index, g.ConstI64({1})});  // [N, 1]
  const std::string cold = g.Op("Equal", {index_col, g.I64(users)});
  const std::string base = g.Op("Where", {cold, pop->name(), raw});
  // Seen items → -inf: column per (row, seen entry) where the entry is the row's user, else a
  // spare column `items` that is sliced off.
  const std::string match = g.Op("Equal", {index_col, seen_user->name()});  // [N, nnz]
  const std::string cols = g.Op("Where", {match, seen_item->name(), g.I64(items)});
  const std::string n = g.Op("Shape", {index});  // [N]
  onnx::NodeProto* shape_node;
  const std::string mask_shape = g.Op("Concat", {n, g.ConstI64({items + 1})}, "", &shape_node);
  Graph::AttrInt(shape_node, "axis", 0);
  onnx::NodeProto* zeros_node;
  const std::string zeros = g.Op("ConstantOfShape", {mask_shape}, "", &zeros_node);
  {
    auto* a = zeros_node->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_float_data(0);
  }
  const std::string neg_inf =
      g.Op("Expand", {g.ConstF32(-std::numeric_limits<float>::infinity()), g.Op("Shape", {cols})});
  onnx::NodeProto* scatter;
  const std::string mask = g.Op("ScatterElements", {zeros, cols, neg_inf}, "", &scatter);
  Graph::AttrInt(scatter, "axis", 1);
  const std::string mask_items =
      g.Op("Slice", {mask, g.ConstI64({0}), g.ConstI64({items}), g.ConstI64({1})});
  const std::string masked = g.Op("Add", {base, mask_items});
  onnx::NodeProto* topk = g.Node("TopK", {masked, "k"}, {"scores", g.Fresh("top_index")});
  Graph::AttrInt(topk, "axis", 1);
  Graph::AttrInt(topk, "largest", 1);
  Graph::AttrInt(topk, "sorted", 1);
  onnx::NodeProto* pick = g.Node("Gather", {ids->name(), topk->output(1)}, {"item_ids"});
  Graph::AttrInt(pick, "axis", 0);
  AddValueInfo(graph->mutable_output(), "item_ids", onnx::TensorProto::STRING, {-1, -1});
  AddValueInfo(graph->mutable_output(), "scores", onnx::TensorProto::FLOAT, {-1, -1});

  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {{"inputs",
                {{{"name", "user_id"}, {"type", "string"}, {"shape", {"N"}}},
                 {{"name", "k"}, {"type", "int64"}, {"shape", {1}}}}},
               {"outputs",
                {{{"name", "item_ids"}, {"type", "string"}, {"shape", {"N", "k"}}},
                 {{"name", "scores"}, {"type", "float32"}, {"shape", {"N", "k"}}}}},
               {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
               {"irVersion", kIrVersion}};
  }
  return absl::OkStatus();
}

absl::Status WriteTextOnnx(const TextLinearArrays& text, const Json& metadata,
                           const std::string& path, Json* layout) {
  const int64_t f = static_cast<int64_t>(text.terms.size());
  const int64_t classes = static_cast<int64_t>(text.labels.size());
  if (f == 0 || static_cast<int64_t>(text.idf.size()) != f || classes < 2 ||
      text.rows != (classes == 2 ? 1 : classes) ||
      static_cast<int64_t>(text.weights.size()) != text.rows * (f + 1)) {
    return absl::InvalidArgumentError("text model arrays do not match their vocabulary");
  }
  onnx::ModelProto model;
  InitModel(model, metadata,
            "tsml nlp_sentiment (TF-IDF + logistic regression): tsml tokens in, label and "
            "probabilities out");
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_text");
  Graph g(graph);
  AddValueInfo(graph->mutable_input(), "tokens", onnx::TensorProto::STRING, {-1, -2});

  // The vocabulary grouped by n-gram length, as TfIdfVectorizer's pool wants it.
  std::vector<std::vector<std::pair<std::vector<std::string>, int64_t>>> by_length;
  for (int64_t i = 0; i < f; ++i) {
    std::vector<std::string> parts = common::Split(text.terms[i], ' ');
    if (parts.empty() ||
        std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
      return absl::InvalidArgumentError(StrCat("vocabulary term ", i, " is not a word n-gram"));
    }
    if (by_length.size() < parts.size()) by_length.resize(parts.size());
    by_length[parts.size() - 1].emplace_back(std::move(parts), i);
  }
  std::vector<std::string> pool;
  std::vector<int64_t> counts, indexes;
  for (const auto& grams : by_length) {
    counts.push_back(static_cast<int64_t>(pool.size()));
    for (const auto& [parts, index] : grams) {
      pool.insert(pool.end(), parts.begin(), parts.end());
      indexes.push_back(index);
    }
  }
  onnx::NodeProto* tfidf;
  const std::string tf = g.Op("TfIdfVectorizer", {"tokens"}, "", &tfidf);  // [N, F] counts
  Graph::AttrInt(tfidf, "min_gram_length", 1);
  Graph::AttrInt(tfidf, "max_gram_length", static_cast<int64_t>(by_length.size()));
  Graph::AttrInt(tfidf, "max_skip_count", 0);
  Graph::AttrString(tfidf, "mode", "TF");
  Graph::AttrInts(tfidf, "ngram_counts", counts);
  Graph::AttrInts(tfidf, "ngram_indexes", indexes);
  Graph::AttrStrings(tfidf, "pool_strings", pool);

  // (1 + ln tf) · idf where tf > 0, then L2-normalized (an empty row stays zero).
  onnx::TensorProto* idf = graph->add_initializer();
  idf->set_name(g.Fresh("idf"));
  idf->set_data_type(onnx::TensorProto::FLOAT);
  idf->add_dims(f);
  for (float v : text.idf) idf->add_float_data(v);
  const std::string present =
      g.Cast(g.Op("Greater", {tf, g.ConstF32(0)}), onnx::TensorProto::FLOAT);
  const std::string log_tf = g.Op("Log", {g.Op("Max", {tf, g.ConstF32(1)})});
  const std::string weighted = g.Op("Mul", {g.Op("Add", {log_tf, present}), idf->name()});
  onnx::NodeProto* rss;
  const std::string squares = g.Op("ReduceSumSquare", {weighted}, "", &rss);
  Graph::AttrInts(rss, "axes", {1});
  Graph::AttrInt(rss, "keepdims", 1);
  const std::string norm = g.Op("Max", {g.Op("Sqrt", {squares}), g.ConstF32(1e-30f)});
  const std::string x = g.Op("Div", {weighted, norm});

  std::vector<float> coef, intercepts;
  auto add_row = [&](int r, float sign) {
    const float* w = text.weights.data() + static_cast<size_t>(r) * (f + 1);
    for (int64_t j = 0; j < f; ++j) coef.push_back(sign * w[j]);
    intercepts.push_back(sign * w[f]);
  };
  if (classes == 2) {  // [-w, w]: probabilities [σ(-z), σ(z)]
    add_row(0, -1);
    add_row(0, 1);
  } else {
    for (int r = 0; r < text.rows; ++r) add_row(r, 1);
  }
  const std::string scores = classes == 2 ? "probabilities" : g.Fresh("scores");
  onnx::NodeProto* lc = g.Node("LinearClassifier", {x}, {"label", scores}, kMl);
  Graph::AttrFloats(lc, "coefficients", coef);
  Graph::AttrFloats(lc, "intercepts", intercepts);
  Graph::AttrStrings(lc, "classlabels_strings", text.labels);
  Graph::AttrString(lc, "post_transform", "LOGISTIC");
  if (classes > 2) {  // liblinear's one-vs-rest normalization
    onnx::NodeProto* n = g.Node("Normalizer", {scores}, {"probabilities"}, kMl);
    Graph::AttrString(n, "norm", "L1");
  }
  AddValueInfo(graph->mutable_output(), "label", onnx::TensorProto::STRING, {-1});
  AddValueInfo(graph->mutable_output(), "probabilities", onnx::TensorProto::FLOAT, {-1, classes});
  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {{"inputs",
                {{{"name", "tokens"},
                  {"type", "string"},
                  {"shape", {"N", "T"}},
                  {"meaning", "tsml's tokens of each text, padded with \"\""}}}},
               {"outputs",
                {{{"name", "label"}, {"type", "string"}, {"shape", {"N"}}},
                 {{"name", "probabilities"},
                  {"type", "float32"},
                  {"shape", {"N", classes}},
                  {"classes", text.labels}}}},
               {"vocabulary", f},
               {"ngramMax", by_length.size()},
               {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
               {"irVersion", kIrVersion},
               {"nodes", graph->node_size()}};
  }
  return absl::OkStatus();
}

absl::Status WriteForecastOnnx(const TreeEnsemble& trees,
                               const std::vector<std::string>& feature_names, const Json& metadata,
                               const std::string& path, Json* layout) {
  const int64_t f = static_cast<int64_t>(feature_names.size());
  if (trees.num_outputs != 1 || trees.base_margin.size() != 1) {
    return absl::InvalidArgumentError("a forecaster has one output");
  }
  for (const Tree& t : trees.trees) {
    for (const TreeNode& n : t.nodes) {
      if (!n.leaf && (n.feature < 0 || n.feature >= f)) {
        return absl::InvalidArgumentError("a tree splits on a feature the forecaster lacks");
      }
    }
  }
  onnx::ModelProto model;
  InitModel(model, metadata,
            "tsml demand_forecast (XGBoost one-step forecaster): lag/rolling/calendar features "
            "in, the next period's value over the series' local level out");
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_forecast");
  Graph g(graph);
  AddValueInfo(graph->mutable_input(), "features", onnx::TensorProto::FLOAT, {-1, f});
  onnx::NodeProto* n = g.Node("TreeEnsembleRegressor", {"features"}, {"ratio"}, kMl);
  TreeAttributes(n, trees, false);
  Graph::AttrInt(n, "n_targets", 1);
  Graph::AttrFloats(n, "base_values", trees.base_margin);
  Graph::AttrString(n, "aggregate_function", "SUM");
  Graph::AttrString(n, "post_transform", "NONE");
  AddValueInfo(graph->mutable_output(), "ratio", onnx::TensorProto::FLOAT, {-1, 1});
  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {{"inputs",
                {{{"name", "features"},
                  {"type", "float32"},
                  {"shape", {"N", f}},
                  {"features", feature_names}}}},
               {"outputs", {{{"name", "ratio"}, {"type", "float32"}, {"shape", {"N", 1}}}}},
               {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
               {"irVersion", kIrVersion},
               {"trees", trees.trees.size()}};
  }
  return absl::OkStatus();
}

absl::Status WriteHoltWintersOnnx(const HoltWintersArrays& hw, const Json& metadata,
                                  const std::string& path, Json* layout) {
  const int64_t series = static_cast<int64_t>(hw.names.size());
  const int64_t h = hw.max_horizon;
  auto sized = [&](size_t n) { return static_cast<int64_t>(n) == series; };
  if (series == 0 || h < 1 || hw.total < 0 || hw.total >= series || !sized(hw.level.size()) ||
      !sized(hw.slope.size()) || !sized(hw.phi.size()) || !sized(hw.lower.size()) ||
      !sized(hw.n.size()) || !sized(hw.season.size()) || !sized(hw.seasonal.size())) {
    return absl::InvalidArgumentError("Holt-Winters arrays do not match their series");
  }
  int64_t width = 1;  // the widest season
  for (int64_t i = 0; i < series; ++i) {
    if (hw.season[i] < 0 || static_cast<int64_t>(hw.seasonal[i].size()) != hw.season[i]) {
      return absl::InvalidArgumentError("Holt-Winters seasonal state does not match its season");
    }
    width = std::max(width, hw.season[i]);
  }
  onnx::ModelProto model;
  InitModel(model, metadata,
            "tsml demand_forecast (Holt-Winters): a series' name in, its forecast from the "
            "fitted state out");
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_holt_winters");
  Graph g(graph);
  AddValueInfo(graph->mutable_input(), "group", onnx::TensorProto::STRING, {-1});
  AddValueInfo(graph->mutable_input(), "horizon", onnx::TensorProto::INT64, {1});

  // Per-series state as [S + 1, ...] tables; row S is an unknown group (NaN).
  const int64_t rows = series + 1;
  auto table = [&](const std::string& prefix, int type, std::vector<int64_t> dims) {
    onnx::TensorProto* t = graph->add_initializer();
    t->set_name(g.Fresh(prefix));
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    return t;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  onnx::TensorProto* level = table("level", onnx::TensorProto::DOUBLE, {rows, 1});
  onnx::TensorProto* slope = table("slope", onnx::TensorProto::DOUBLE, {rows, 1});
  onnx::TensorProto* phi = table("phi", onnx::TensorProto::DOUBLE, {rows, 1});
  onnx::TensorProto* lower = table("lower", onnx::TensorProto::DOUBLE, {rows, 1});
  onnx::TensorProto* unknown = table("unknown", onnx::TensorProto::DOUBLE, {rows, 1});
  onnx::TensorProto* n = table("n", onnx::TensorProto::INT64, {rows, 1});
  onnx::TensorProto* season = table("season", onnx::TensorProto::INT64, {rows, 1});
  onnx::TensorProto* seasonal = table("seasonal", onnx::TensorProto::DOUBLE, {rows, width});
  for (int64_t i = 0; i < rows; ++i) {
    const bool known = i < series;
    level->add_double_data(known ? hw.level[i] : 0);
    slope->add_double_data(known ? hw.slope[i] : 0);
    phi->add_double_data(known ? hw.phi[i] : 1);
    lower->add_double_data(known ? hw.lower[i] : -std::numeric_limits<double>::infinity());
    unknown->add_double_data(known ? 0 : nan);
    n->add_int64_data(known ? hw.n[i] : 0);
    season->add_int64_data(known && hw.season[i] > 0 ? hw.season[i] : 1);
    for (int64_t j = 0; j < width; ++j) {
      seasonal->add_double_data(known && j < hw.season[i] ? hw.seasonal[i][j] : 0);
    }
  }
  onnx::TensorProto* steps = table("steps", onnx::TensorProto::DOUBLE, {1, h});     // 1..h
  onnx::TensorProto* offsets = table("offsets", onnx::TensorProto::INT64, {1, h});  // 0..h-1
  for (int64_t k = 0; k < h; ++k) {
    steps->add_double_data(static_cast<double>(k + 1));
    offsets->add_int64_data(k);
  }

  // The series' row: its name, "" or "__total__" for the total, anything else the NaN row.
  std::vector<std::string> keys;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < series; ++i) {
    if (i == hw.total) continue;
    keys.push_back(hw.names[i]);
    values.push_back(i);
  }
  for (const char* total : {"", "__total__"}) {
    if (std::find(keys.begin(), keys.end(), total) == keys.end()) {
      keys.emplace_back(total);
      values.push_back(hw.total);
    }
  }
  onnx::NodeProto* enc;
  const std::string index = g.Op("LabelEncoder", {"group"}, kMl, &enc);
  Graph::AttrStrings(enc, "keys_strings", keys);
  Graph::AttrInts(enc, "values_int64s", values);
  Graph::AttrInt(enc, "default_int64", series);
  auto pick = [&](const onnx::TensorProto* t) {
    onnx::NodeProto* gather;
    const std::string out = g.Op("Gather", {t->name(), index}, "", &gather);
    Graph::AttrInt(gather, "axis", 0);
    return out;
  };
  // Σ_{j≤k} phi^j: the damped trend's multiplier at step k.
  onnx::NodeProto* cumsum;
  const std::string damp =
      g.Op("CumSum", {g.Op("Pow", {pick(phi), steps->name()}), g.I64(1)}, "", &cumsum);
  const std::string trend = g.Op("Mul", {pick(slope), damp});
  onnx::NodeProto* mod;
  const std::string season_index =
      g.Op("Mod", {g.Op("Add", {pick(n), offsets->name()}), pick(season)}, "", &mod);
  Graph::AttrInt(mod, "fmod", 0);
  onnx::NodeProto* ge;
  const std::string seasonal_term = g.Op("GatherElements", {pick(seasonal), season_index}, "", &ge);
  Graph::AttrInt(ge, "axis", 1);
  const std::string value =
      g.Op("Add", {g.Op("Add", {pick(level), trend}), seasonal_term});  // [N, h]
  const std::string clamped = g.Op("Max", {value, pick(lower)});
  const std::string full = g.Op("Add", {clamped, pick(unknown)});
  g.Node("Slice", {full, g.ConstI64({0}), "horizon", g.ConstI64({1})}, {"forecast"});
  AddValueInfo(graph->mutable_output(), "forecast", onnx::TensorProto::DOUBLE, {-1, -1});
  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {
        {"inputs",
         {{{"name", "group"}, {"type", "string"}, {"shape", {"N"}}},
          {{"name", "horizon"}, {"type", "int64"}, {"shape", {1}}, {"max", h}}}},
        {"outputs", {{{"name", "forecast"}, {"type", "float64"}, {"shape", {"N", "horizon"}}}}},
        {"series", series},
        {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
        {"irVersion", kIrVersion}};
  }
  return absl::OkStatus();
}

absl::Status WriteFastTextOnnx(const train::text::FastTextArrays& ft,
                               const std::vector<std::string>& labels, const Json& metadata,
                               const std::string& path, Json* layout) {
  const int64_t dim = ft.dim;
  const int64_t rows = static_cast<int64_t>(ft.words.size()) + ft.bucket;
  const int64_t n_labels = static_cast<int64_t>(ft.label_class.size());
  const int64_t classes = static_cast<int64_t>(labels.size());
  if (dim <= 0 || static_cast<int64_t>(ft.input.size()) != rows * dim ||
      static_cast<int64_t>(ft.output.size()) != n_labels * dim || n_labels != classes) {
    return absl::InvalidArgumentError("fastText arrays do not match their dictionary");
  }
  std::vector<int64_t> column_of_class(static_cast<size_t>(classes), -1);
  for (int64_t l = 0; l < n_labels; ++l) {
    const int c = ft.label_class[static_cast<size_t>(l)];
    if (c < 0 || c >= classes || column_of_class[c] >= 0) {
      return absl::InvalidArgumentError("fastText labels do not map onto the classes");
    }
    column_of_class[c] = l;
  }
  onnx::ModelProto model;
  InitModel(model, metadata,
            "tsml nlp_sentiment (fastText): fastText input ids of tsml's tokens in, label and "
            "probabilities out");
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tsml_fasttext");
  Graph g(graph);
  AddValueInfo(graph->mutable_input(), "ids", onnx::TensorProto::INT64, {-1, -2});

  auto matrix = [&](const std::string& prefix, const std::vector<int64_t>& dims) {
    onnx::TensorProto* t = graph->add_initializer();
    t->set_name(g.Fresh(prefix));
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    return t;
  };
  onnx::TensorProto* input = matrix("input_rows", {rows, dim});
  input->mutable_raw_data()->assign(reinterpret_cast<const char*>(ft.input.data()),
                                    ft.input.size() * sizeof(float));
  onnx::TensorProto* output_t = matrix("output_rows_t", {dim, n_labels});
  for (int64_t j = 0; j < dim; ++j) {
    for (int64_t l = 0; l < n_labels; ++l) output_t->add_float_data(ft.output[l * dim + j]);
  }
  onnx::TensorProto* names = graph->add_initializer();
  names->set_name(g.Fresh("labels"));
  names->set_data_type(onnx::TensorProto::STRING);
  names->add_dims(classes);
  for (const std::string& l : labels) names->add_string_data(l);

  // Mean of the rows of the valid ids (>= 0), as fastText's hidden layer.
  const std::string valid = g.Op("GreaterOrEqual", {"ids", g.I64(0)});
  const std::string valid_f = g.Cast(valid, onnx::TensorProto::FLOAT);  // [N, L]
  const std::string safe = g.Op("Where", {valid, "ids", g.I64(0)});
  onnx::NodeProto* gather;
  const std::string rows_of = g.Op("Gather", {input->name(), safe}, "", &gather);  // [N, L, D]
  Graph::AttrInt(gather, "axis", 0);
  const std::string masked = g.Op("Mul", {rows_of, g.Op("Unsqueeze", {valid_f, g.ConstI64({2})})});
  onnx::NodeProto* sum_node;
  const std::string sum = g.Op("ReduceSum", {masked, g.ConstI64({1})}, "", &sum_node);  // [N, D]
  Graph::AttrInt(sum_node, "keepdims", 0);
  onnx::NodeProto* count_node;
  const std::string count = g.Op("ReduceSum", {valid_f, g.ConstI64({1})}, "", &count_node);
  Graph::AttrInt(count_node, "keepdims", 1);
  const std::string hidden = g.Op("Div", {sum, g.Op("Max", {count, g.ConstF32(1)})});
  onnx::NodeProto* softmax;
  const std::string p = g.Op("Softmax", {g.Op("MatMul", {hidden, output_t->name()})}, "", &softmax);
  Graph::AttrInt(softmax, "axis", 1);
  // fastText reports log(p + 1e-5); tsml renormalizes exp of it, in class order.
  onnx::NodeProto* reorder;
  const std::string by_class = g.Op("Gather", {p, g.ConstI64(column_of_class)}, "", &reorder);
  Graph::AttrInt(reorder, "axis", 1);
  const std::string shifted = g.Op("Add", {by_class, g.ConstF32(1e-5f)});
  onnx::NodeProto* total_node;
  const std::string total = g.Op("ReduceSum", {shifted, g.ConstI64({1})}, "", &total_node);
  Graph::AttrInt(total_node, "keepdims", 1);
  g.Node("Div", {shifted, total}, {"probabilities"});
  onnx::NodeProto* argmax;
  const std::string best = g.Op("ArgMax", {"probabilities"}, "", &argmax);
  Graph::AttrInt(argmax, "axis", 1);
  Graph::AttrInt(argmax, "keepdims", 0);
  onnx::NodeProto* pick = g.Node("Gather", {names->name(), best}, {"label"});
  Graph::AttrInt(pick, "axis", 0);
  AddValueInfo(graph->mutable_output(), "label", onnx::TensorProto::STRING, {-1});
  AddValueInfo(graph->mutable_output(), "probabilities", onnx::TensorProto::FLOAT, {-1, classes});
  RETURN_IF_ERROR(CheckAndWrite(model, path));
  if (layout) {
    *layout = {{"inputs",
                {{{"name", "ids"},
                  {"type", "int64"},
                  {"shape", {"N", "T"}},
                  {"meaning", "fastText input ids of each text's tokens, padded with -1"}}}},
               {"outputs",
                {{{"name", "label"}, {"type", "string"}, {"shape", {"N"}}},
                 {{"name", "probabilities"},
                  {"type", "float32"},
                  {"shape", {"N", classes}},
                  {"classes", labels}}}},
               {"rows", rows},
               {"dim", dim},
               {"opsets", {{"ai.onnx", kOnnxOpset}, {"ai.onnx.ml", kOnnxMlOpset}}},
               {"irVersion", kIrVersion}};
  }
  return absl::OkStatus();
}

}  // namespace tsml::exporting
