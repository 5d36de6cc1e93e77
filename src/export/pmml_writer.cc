#include "export/pmml_writer.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

#include "common/file_util.h"
#include "common/strings.h"
#include "pugixml.hpp"

namespace tsml::exporting {
namespace {

using common::StrCat;
using data::ColumnTransform;
using data::FeatureKind;
using train::tabular::Task;

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Expression builders over pugixml nodes.
pugi::xml_node Apply(pugi::xml_node parent, const char* function) {
  pugi::xml_node a = parent.append_child("Apply");
  a.append_attribute("function") = function;
  return a;
}
pugi::xml_node FieldRef(pugi::xml_node parent, const std::string& field) {
  pugi::xml_node f = parent.append_child("FieldRef");
  f.append_attribute("field") = field.c_str();
  return f;
}
pugi::xml_node Constant(pugi::xml_node parent, double v) {
  pugi::xml_node c = parent.append_child("Constant");
  c.append_attribute("dataType") = "double";
  c.text() = Num(v).c_str();
  return c;
}
pugi::xml_node ConstantString(pugi::xml_node parent, const std::string& v) {
  pugi::xml_node c = parent.append_child("Constant");
  c.append_attribute("dataType") = "string";
  c.text() = v.c_str();
  return c;
}

class Transformations {
 public:
  explicit Transformations(pugi::xml_node dict) : dict_(dict) {}

  pugi::xml_node Derived(const std::string& name, const std::string& display = "") {
    pugi::xml_node d = dict_.append_child("DerivedField");
    d.append_attribute("name") = name.c_str();
    if (!display.empty()) d.append_attribute("displayName") = display.c_str();
    d.append_attribute("optype") = "continuous";
    d.append_attribute("dataType") = "double";
    return d;
  }
  // if(isMissing(field), a, b)
  static void IfMissing(pugi::xml_node parent, const std::string& field, double a, double b) {
    pugi::xml_node i = Apply(parent, "if");
    FieldRef(Apply(i, "isMissing"), field);
    Constant(i, a);
    Constant(i, b);
  }
  // name = floor(a / b) for a field a.
  std::string FloorDiv(const std::string& prefix, const std::string& a, double b) {
    const std::string name = Fresh(prefix);
    pugi::xml_node f = Apply(Derived(name), "floor");
    pugi::xml_node d = Apply(f, "/");
    FieldRef(d, a);
    Constant(d, b);
    return name;
  }
  // name = sum of terms coef * field (+ constant).
  std::string Linear(const std::string& prefix,
                     const std::vector<std::pair<double, std::string>>& terms, double constant) {
    const std::string name = Fresh(prefix);
    BuildSum(Derived(name), terms, terms.size(), constant);
    return name;
  }
  std::string Fresh(const std::string& prefix) { return StrCat("tsml_", prefix, count_++); }

 private:
  // constant + t1 + ... + tn, nested left to right.
  static void BuildSum(pugi::xml_node parent,
                       const std::vector<std::pair<double, std::string>>& terms, size_t n,
                       double constant) {
    pugi::xml_node add = Apply(parent, "+");
    if (n == 1) {
      Constant(add, constant);
    } else {
      BuildSum(add, terms, n - 1, constant);
    }
    AppendTerm(add, terms[n - 1]);
  }
  static void AppendTerm(pugi::xml_node parent, const std::pair<double, std::string>& t) {
    if (t.first == 1) {
      FieldRef(parent, t.second);
    } else {
      pugi::xml_node m = Apply(parent, "*");
      Constant(m, t.first);
      FieldRef(m, t.second);
    }
  }
  pugi::xml_node dict_;
  int count_ = 0;
};

// The calendar features of a timestamp column, as in data::FeatureTransform::EncodeTimestamp:
// exact integer arithmetic in doubles (every value stays far below 2^53).
std::vector<std::string> TimestampFields(Transformations& t, const std::string& column) {
  const std::string days = t.FloorDiv("days", column, 86400000);
  // hour = floor((ms - days*86400000) / 3600000)
  const std::string rem = t.Linear("msofday", {{1, column}, {-86400000, days}}, 0);
  const std::string hour = t.FloorDiv("hour", rem, 3600000);
  // dow = (days + 4) mod 7
  const std::string d4 = t.Linear("d4", {{1, days}}, 4);
  const std::string w = t.FloorDiv("w", d4, 7);
  const std::string dow = t.Linear("dow", {{1, d4}, {-7, w}}, 0);
  const std::string z = t.Linear("z", {{1, days}}, 719468);
  const std::string era = t.FloorDiv("era", z, 146097);
  const std::string doe = t.Linear("doe", {{1, z}, {-146097, era}}, 0);
  const std::string a = t.FloorDiv("a", doe, 1460);
  const std::string b = t.FloorDiv("b", doe, 36524);
  const std::string c = t.FloorDiv("c", doe, 146096);
  const std::string yoe_num = t.Linear("yn", {{1, doe}, {-1, a}, {1, b}, {-1, c}}, 0);
  const std::string yoe = t.FloorDiv("yoe", yoe_num, 365);
  const std::string y4 = t.FloorDiv("y4", yoe, 4);
  const std::string y100 = t.FloorDiv("y100", yoe, 100);
  const std::string doy_mar = t.Linear("doym", {{1, doe}, {-365, yoe}, {-1, y4}, {1, y100}}, 0);
  const std::string mp5 = t.Linear("mp5", {{5, doy_mar}}, 2);
  const std::string mp = t.FloorDiv("mp", mp5, 153);
  // month = mp < 10 ? mp + 3 : mp - 9
  const std::string month = t.Fresh("month");
  {
    pugi::xml_node i = Apply(t.Derived(month), "if");
    pugi::xml_node lt = Apply(i, "lessThan");
    FieldRef(lt, mp);
    Constant(lt, 10);
    pugi::xml_node p = Apply(i, "+");
    FieldRef(p, mp);
    Constant(p, 3);
    pugi::xml_node m = Apply(i, "-");
    FieldRef(m, mp);
    Constant(m, 9);
  }
  const std::string jan_feb = t.Fresh("janfeb");
  {
    pugi::xml_node i = Apply(t.Derived(jan_feb), "if");
    pugi::xml_node lt = Apply(i, "lessThan");
    FieldRef(lt, month);
    Constant(lt, 3);
    Constant(i, 1);
    Constant(i, 0);
  }
  // year - 1 = yoe + era*400 + janfeb - 1
  const std::string yp = t.Linear("yp", {{1, yoe}, {400, era}, {1, jan_feb}}, -1);
  const std::string era2 = t.FloorDiv("era2_", yp, 400);
  const std::string yoe2 = t.Linear("yoe2_", {{1, yp}, {-400, era2}}, 0);
  const std::string q4 = t.FloorDiv("q4_", yoe2, 4);
  const std::string q100 = t.FloorDiv("q100_", yoe2, 100);
  // doy = days - (era2*146097 + yoe2*365 + q4 - q100 + 306 - 719468) + 1
  const std::string doy = t.Linear(
      "doy", {{1, days}, {-146097, era2}, {-365, yoe2}, {-1, q4}, {1, q100}}, -306 + 719468 + 1);
  return {dow, month, hour, doy};
}

// The double boundary m such that, for a double x, float(x) < t ⇔ x < m (or x <= m when
// `inclusive`): the midpoint between t and the float below it, whose rounding follows the
// even mantissa.
void FloatThreshold(float t, double* boundary, bool* inclusive) {
  const float below = std::nextafter(t, -std::numeric_limits<float>::infinity());
  *boundary = (static_cast<double>(below) + static_cast<double>(t)) / 2;
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  *inclusive = (bits & 1u) != 0;  // a tie rounds to `below` (even) → counts as less
}

void WriteNode(pugi::xml_node parent, const Tree& tree, int index,
               const std::vector<std::string>& feature_fields) {
  const TreeNode& n = tree.nodes[index];
  if (n.leaf) {
    parent.append_attribute("score") = Num(n.value).c_str();
    return;
  }
  parent.append_attribute("defaultChild") = (n.default_left ? n.left : n.right);
  double boundary;
  bool inclusive;
  FloatThreshold(n.threshold, &boundary, &inclusive);
  const std::string field = feature_fields[n.feature];
  pugi::xml_node left = parent.append_child("Node");
  left.append_attribute("id") = n.left;
  pugi::xml_node lp = left.append_child("SimplePredicate");
  lp.append_attribute("field") = field.c_str();
  lp.append_attribute("operator") = inclusive ? "lessOrEqual" : "lessThan";
  lp.append_attribute("value") = Num(boundary).c_str();
  WriteNode(left, tree, n.left, feature_fields);
  pugi::xml_node right = parent.append_child("Node");
  right.append_attribute("id") = n.right;
  pugi::xml_node rp = right.append_child("SimplePredicate");
  rp.append_attribute("field") = field.c_str();
  rp.append_attribute("operator") = inclusive ? "greaterThan" : "greaterOrEqual";
  rp.append_attribute("value") = Num(boundary).c_str();
  WriteNode(right, tree, n.right, feature_fields);
}

void MiningSchema(pugi::xml_node model, const TabularIr& ir, const std::string& target,
                  const std::vector<std::string>& extra = {}) {
  pugi::xml_node s = model.append_child("MiningSchema");
  if (!target.empty()) {
    pugi::xml_node f = s.append_child("MiningField");
    f.append_attribute("name") = target.c_str();
    f.append_attribute("usageType") = "target";
  }
  for (const ColumnTransform& c : ir.transform->columns()) {
    pugi::xml_node f = s.append_child("MiningField");
    f.append_attribute("name") = c.column.c_str();
    f.append_attribute("invalidValueTreatment") = "asIs";
  }
  for (const std::string& e : extra)
    s.append_child("MiningField").append_attribute("name") = e.c_str();
}

void OutputField(pugi::xml_node output, const std::string& name, const char* feature,
                 const std::string& value = "", bool final_result = true) {
  pugi::xml_node o = output.append_child("OutputField");
  o.append_attribute("name") = name.c_str();
  o.append_attribute("optype") = "continuous";
  o.append_attribute("dataType") = "double";
  o.append_attribute("feature") = feature;
  if (!value.empty()) o.append_attribute("value") = value.c_str();
  if (!final_result) o.append_attribute("isFinalResult") = "false";
}

void FinalOutputs(pugi::xml_node model, const TabularIr& ir, const std::string& target,
                  Json* outputs) {
  pugi::xml_node output = model.append_child("Output");
  if (ir.task == Task::kRegression) {
    const std::string name = "predicted_" + target;
    OutputField(output, name, "predictedValue");
    outputs->push_back({{"name", name}, {"feature", "predictedValue"}});
  } else {
    for (const std::string& c : ir.classes) {
      const std::string name = StrCat("probability(", c, ")");
      OutputField(output, name, "probability", c);
      outputs->push_back({{"name", name}, {"feature", "probability"}, {"class", c}});
    }
  }
}

pugi::xml_node Segment(pugi::xml_node segmentation, int id) {
  pugi::xml_node s = segmentation.append_child("Segment");
  s.append_attribute("id") = id;
  s.append_child("True");
  return s;
}

// A RegressionModel (classification) whose tables are intercept + 1 * field per class.
void LinkModel(pugi::xml_node parent, const TabularIr& ir, const std::string& target,
               const std::vector<std::string>& fields, const std::vector<double>& intercepts,
               const char* normalization) {
  pugi::xml_node m = parent.append_child("RegressionModel");
  const bool classification = ir.task != Task::kRegression;
  m.append_attribute("functionName") = classification ? "classification" : "regression";
  m.append_attribute("normalizationMethod") = normalization;
  pugi::xml_node s = m.append_child("MiningSchema");
  pugi::xml_node tf = s.append_child("MiningField");
  tf.append_attribute("name") = target.c_str();
  tf.append_attribute("usageType") = "target";
  for (const std::string& f : fields)
    s.append_child("MiningField").append_attribute("name") = f.c_str();
  auto table = [&](const std::string* category, double intercept, const std::string* field) {
    pugi::xml_node t = m.append_child("RegressionTable");
    t.append_attribute("intercept") = Num(intercept).c_str();
    if (category) t.append_attribute("targetCategory") = category->c_str();
    if (field) {
      pugi::xml_node p = t.append_child("NumericPredictor");
      p.append_attribute("name") = field->c_str();
      p.append_attribute("coefficient") = "1";
    }
  };
  if (ir.task == Task::kBinary) {
    table(&ir.classes[1], intercepts[0], &fields[0]);
    table(&ir.classes[0], 0, nullptr);
  } else if (ir.task == Task::kMulticlass) {
    for (size_t k = 0; k < ir.classes.size(); ++k) table(&ir.classes[k], intercepts[k], &fields[k]);
  } else {
    table(nullptr, intercepts[0], &fields[0]);
  }
}

}  // namespace

absl::Status WriteTabularPmml(const TabularIr& ir, const std::string& target_name,
                              const Json& metadata, const std::string& path, Json* layout) {
  std::string target = target_name.empty() ? "target" : target_name;
  for (const ColumnTransform& c : ir.transform->columns()) {
    if (c.column == target) target = "__target__";
    // Derived fields are named tsml_*; a raw column must not shadow them.
    if (common::StartsWith(c.column, "tsml_")) {
      return absl::InvalidArgumentError(
          StrCat("cannot write PMML: column '", c.column, "' uses the reserved prefix tsml_"));
    }
  }
  pugi::xml_document doc;
  pugi::xml_node decl = doc.prepend_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node pmml = doc.append_child("PMML");
  pmml.append_attribute("xmlns") = "http://www.dmg.org/PMML-4_4";
  pmml.append_attribute("version") = "4.4";
  pugi::xml_node header = pmml.append_child("Header");
  header.append_attribute("description") =
      StrCat("tsml ", metadata.value("modelType", ""), " (", ir.task_name, ")").c_str();
  pugi::xml_node app = header.append_child("Application");
  app.append_attribute("name") = "tsml";
  app.append_attribute("version") = metadata.value("tsmlVersion", "").c_str();

  Json inputs = Json::array(), outputs = Json::array();
  // DataDictionary.
  pugi::xml_node dd = pmml.append_child("DataDictionary");
  int fields = 0;
  for (const ColumnTransform& c : ir.transform->columns()) {
    pugi::xml_node f = dd.append_child("DataField");
    f.append_attribute("name") = c.column.c_str();
    const bool cat = c.kind == FeatureKind::kCategorical;
    f.append_attribute("optype") = cat ? "categorical" : "continuous";
    f.append_attribute("dataType") = cat ? "string" : "double";
    if (c.kind == FeatureKind::kTimestamp)
      f.append_attribute("displayName") = "epoch milliseconds (UTC)";
    inputs.push_back({{"name", c.column},
                      {"dataType", cat ? "string" : "double"},
                      {"kind", c.kind == FeatureKind::kNumeric       ? "numeric"
                               : c.kind == FeatureKind::kCategorical ? "categorical"
                                                                     : "timestamp (epoch ms)"}});
    ++fields;
  }
  {
    pugi::xml_node f = dd.append_child("DataField");
    f.append_attribute("name") = target.c_str();
    if (ir.task == Task::kRegression) {
      f.append_attribute("optype") = "continuous";
      f.append_attribute("dataType") = "double";
    } else {
      f.append_attribute("optype") = "categorical";
      f.append_attribute("dataType") = "string";
      for (const std::string& c : ir.classes)
        f.append_child("Value").append_attribute("value") = c.c_str();
    }
    ++fields;
  }
  dd.append_attribute("numberOfFields") = fields;

  // TransformationDictionary: f<j> per encoded feature.
  Transformations t(pmml.append_child("TransformationDictionary"));
  std::vector<std::string> feature_fields;
  const auto& names = ir.transform->feature_names();
  auto next_name = [&]() { return StrCat("tsml_f", feature_fields.size()); };
  for (const ColumnTransform& c : ir.transform->columns()) {
    switch (c.kind) {
      case FeatureKind::kNumeric: {
        std::string name = next_name();
        FieldRef(t.Derived(name, names[feature_fields.size()]), c.column);
        feature_fields.push_back(name);
        if (c.missing_indicator) {
          name = next_name();
          Transformations::IfMissing(t.Derived(name, names[feature_fields.size()]), c.column, 1, 0);
          feature_fields.push_back(name);
        }
        break;
      }
      case FeatureKind::kCategorical: {
        for (const std::string& level : c.levels) {
          const std::string name = next_name();
          pugi::xml_node nd =
              t.Derived(name, names[feature_fields.size()]).append_child("NormDiscrete");
          nd.append_attribute("field") = c.column.c_str();
          nd.append_attribute("value") = level.c_str();
          nd.append_attribute("mapMissingTo") = "0";
          feature_fields.push_back(name);
        }
        if (c.other) {
          const std::string name = next_name();
          pugi::xml_node i = Apply(t.Derived(name, names[feature_fields.size()]), "if");
          FieldRef(Apply(i, "isMissing"), c.column);
          Constant(i, 0);
          pugi::xml_node inner = Apply(i, "if");
          pugi::xml_node in = Apply(inner, "isIn");
          FieldRef(in, c.column);
          for (const std::string& level : c.levels) ConstantString(in, level);
          Constant(inner, 0);
          Constant(inner, 1);
          feature_fields.push_back(name);
        }
        for (int k = 0; k < c.hash_buckets; ++k) {
          const std::string name = next_name();
          pugi::xml_node d = t.Derived(name, names[feature_fields.size()]);
          std::vector<std::string> values;
          if (auto it = ir.hashed.find(c.column); it != ir.hashed.end()) {
            for (const auto& [v, bucket] : it->second) {
              if (bucket == k) values.push_back(v);
            }
          }
          if (values.empty()) {
            Constant(d, 0);
          } else {
            pugi::xml_node mv = d.append_child("MapValues");
            mv.append_attribute("outputColumn") = "out";
            mv.append_attribute("dataType") = "double";
            mv.append_attribute("defaultValue") = "0";
            mv.append_attribute("mapMissingTo") = "0";
            pugi::xml_node pair = mv.append_child("FieldColumnPair");
            pair.append_attribute("field") = c.column.c_str();
            pair.append_attribute("column") = "in";
            pugi::xml_node table = mv.append_child("InlineTable");
            for (const std::string& v : values) {
              pugi::xml_node row = table.append_child("row");
              row.append_child("in").text() = v.c_str();
              row.append_child("out").text() = "1";
            }
          }
          feature_fields.push_back(name);
        }
        if (c.missing_level) {
          const std::string name = next_name();
          Transformations::IfMissing(t.Derived(name, names[feature_fields.size()]), c.column, 1, 0);
          feature_fields.push_back(name);
        }
        break;
      }
      case FeatureKind::kTimestamp: {
        for (const std::string& part : TimestampFields(t, c.column)) {
          const std::string name = next_name();
          FieldRef(t.Derived(name, names[feature_fields.size()]), part);
          feature_fields.push_back(name);
        }
        break;
      }
    }
  }
  if (feature_fields.size() != ir.num_features()) {
    return absl::InternalError("PMML features do not match the transformation");
  }

  const size_t outputs_n = ir.num_outputs();
  if (ir.trees) {
    const TreeEnsemble& e = *ir.trees;
    pugi::xml_node top = pmml.append_child("MiningModel");
    top.append_attribute("functionName") =
        ir.task == Task::kRegression ? "regression" : "classification";
    top.append_attribute("algorithmName") = "XGBoost (GBTree)";
    MiningSchema(top, ir, target);
    FinalOutputs(top, ir, target, &outputs);
    pugi::xml_node chain = top.append_child("Segmentation");
    chain.append_attribute("multipleModelMethod") = "modelChain";
    std::vector<std::string> sums;
    std::vector<double> intercepts;
    for (size_t k = 0; k < outputs_n; ++k) {
      const std::string sum_name =
          outputs_n == 1 ? "xgbValue" : StrCat("xgbValue(", ir.classes[k], ")");
      sums.push_back(sum_name);
      intercepts.push_back(e.base_margin[k]);
      pugi::xml_node mm = Segment(chain, static_cast<int>(k) + 1).append_child("MiningModel");
      mm.append_attribute("functionName") = "regression";
      MiningSchema(mm, ir, "");
      OutputField(mm.append_child("Output"), sum_name, "predictedValue", "", false);
      pugi::xml_node seg = mm.append_child("Segmentation");
      seg.append_attribute("multipleModelMethod") = "sum";
      int id = 0;
      for (const Tree& tree : e.trees) {
        if (static_cast<size_t>(tree.target) != k) continue;
        pugi::xml_node tm = Segment(seg, ++id).append_child("TreeModel");
        tm.append_attribute("functionName") = "regression";
        tm.append_attribute("missingValueStrategy") = "defaultChild";
        tm.append_attribute("noTrueChildStrategy") = "returnLastPrediction";
        tm.append_attribute("splitCharacteristic") = "binarySplit";
        MiningSchema(tm, ir, "");
        pugi::xml_node root = tm.append_child("Node");
        root.append_attribute("id") = 0;
        root.append_child("True");
        WriteNode(root, tree, 0, feature_fields);
      }
    }
    LinkModel(Segment(chain, static_cast<int>(outputs_n) + 1), ir, target, sums, intercepts,
              ir.task == Task::kBinary       ? "logit"
              : ir.task == Task::kMulticlass ? "softmax"
                                             : "none");
  } else {
    const train::tabular::LinearModel& m = *ir.linear;
    // Standardized features: (f_j, missing → mean) - mean) / scale.
    std::vector<std::string> z(ir.num_features());
    for (size_t j = 0; j < z.size(); ++j) {
      z[j] = StrCat("tsml_z", j);
      pugi::xml_node d = t.Derived(z[j]);
      pugi::xml_node div = Apply(d, "/");
      pugi::xml_node sub = Apply(div, "-");
      FieldRef(sub, feature_fields[j]).append_attribute("mapMissingTo") = Num(m.mean[j]).c_str();
      Constant(sub, m.mean[j]);
      Constant(div, m.scale[j]);
    }
    auto regression_table = [&](pugi::xml_node model, size_t k, const std::string* category) {
      pugi::xml_node table = model.append_child("RegressionTable");
      table.append_attribute("intercept") = Num(m.bias[k]).c_str();
      if (category) table.append_attribute("targetCategory") = category->c_str();
      for (size_t j = 0; j < z.size(); ++j) {
        if (m.weights[k][j] == 0) continue;
        pugi::xml_node p = table.append_child("NumericPredictor");
        p.append_attribute("name") = z[j].c_str();
        p.append_attribute("coefficient") = Num(m.weights[k][j]).c_str();
      }
    };
    if (ir.task == Task::kMulticlass) {
      pugi::xml_node top = pmml.append_child("MiningModel");
      top.append_attribute("functionName") = "classification";
      MiningSchema(top, ir, target);
      FinalOutputs(top, ir, target, &outputs);
      pugi::xml_node chain = top.append_child("Segmentation");
      chain.append_attribute("multipleModelMethod") = "modelChain";
      std::vector<std::string> sig;
      for (size_t k = 0; k < outputs_n; ++k) {
        sig.push_back(StrCat("ovr(", ir.classes[k], ")"));
        pugi::xml_node rm = Segment(chain, static_cast<int>(k) + 1).append_child("RegressionModel");
        rm.append_attribute("functionName") = "regression";
        rm.append_attribute("normalizationMethod") = "logit";
        MiningSchema(rm, ir, "");
        OutputField(rm.append_child("Output"), sig.back(), "predictedValue", "", false);
        regression_table(rm, k, nullptr);
      }
      LinkModel(Segment(chain, static_cast<int>(outputs_n) + 1), ir, target, sig,
                std::vector<double>(outputs_n, 0.0), "simplemax");
    } else {
      pugi::xml_node rm = pmml.append_child("RegressionModel");
      const bool binary = ir.task == Task::kBinary;
      rm.append_attribute("functionName") = binary ? "classification" : "regression";
      rm.append_attribute("normalizationMethod") = binary ? "logit" : "none";
      MiningSchema(rm, ir, target);
      FinalOutputs(rm, ir, target, &outputs);
      if (binary) {
        regression_table(rm, 0, &ir.classes[1]);
        pugi::xml_node neg = rm.append_child("RegressionTable");
        neg.append_attribute("intercept") = "0";
        neg.append_attribute("targetCategory") = ir.classes[0].c_str();
      } else {
        regression_table(rm, 0, nullptr);
      }
    }
  }

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  if (auto s = common::WriteFileAtomic(path, out.str()); !s.ok()) return s;
  if (layout)
    *layout = {
        {"inputs", inputs}, {"outputs", outputs}, {"pmmlVersion", "4.4"}, {"target", target}};
  return absl::OkStatus();
}

}  // namespace tsml::exporting
