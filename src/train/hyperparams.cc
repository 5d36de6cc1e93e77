#include "train/hyperparams.h"

#include <cmath>

#include "common/strings.h"

namespace tsml::train {
namespace {

std::string TypeName(HyperparamSpec::Type t) {
  switch (t) {
    case HyperparamSpec::Type::kInt:
      return "integer";
    case HyperparamSpec::Type::kNumber:
      return "number";
    case HyperparamSpec::Type::kBool:
      return "boolean";
    case HyperparamSpec::Type::kEnum:
      return "enum";
    case HyperparamSpec::Type::kString:
      return "string";
    case HyperparamSpec::Type::kStringList:
      return "string list";
  }
  return "value";
}

std::string Num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return common::StrCat(v);
}

// Checks one value; adds an error and returns false when invalid.
bool CheckValue(const HyperparamSpec& spec, const Json& v, const std::string& field,
                common::ValidationErrors& errors) {
  using T = HyperparamSpec::Type;
  switch (spec.type) {
    case T::kInt: {
      const bool integral = v.is_number_integer() ||
                            (v.is_number_float() && std::isfinite(v.get<double>()) &&
                             v.get<double>() == std::floor(v.get<double>()));
      if (!integral || v.get<double>() < spec.min || v.get<double>() > spec.max) {
        errors.Add(field, common::StrCat("must be an integer from ", Num(spec.min), " to ",
                                         Num(spec.max)));
        return false;
      }
      return true;
    }
    case T::kNumber:
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < spec.min ||
          v.get<double>() > spec.max) {
        errors.Add(field, common::StrCat("must be a number from ", Num(spec.min), " to ",
                                         Num(spec.max)));
        return false;
      }
      return true;
    case T::kBool:
      if (!v.is_boolean()) {
        errors.Add(field, "must be a boolean");
        return false;
      }
      return true;
    case T::kEnum:
      if (!v.is_string() ||
          std::find(spec.choices.begin(), spec.choices.end(), v.get<std::string>()) ==
              spec.choices.end()) {
        errors.Add(field, common::StrCat("must be one of: ", common::StrJoin(spec.choices, ", ")));
        return false;
      }
      return true;
    case T::kString:
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 200) {
        errors.Add(field, "must be a non-empty string");
        return false;
      }
      return true;
    case T::kStringList: {
      bool ok = v.is_array() && !v.empty() && v.size() <= 20;
      if (ok) {
        for (const auto& e : v) ok = ok && e.is_string() && !e.get<std::string>().empty();
      }
      if (!ok) errors.Add(field, "must be a non-empty array of strings");
      return ok;
    }
  }
  return false;
}

}  // namespace

Json ValidateHyperparameters(const std::vector<HyperparamSpec>& specs, const Json& given,
                             common::ValidationErrors& errors) {
  Json out = Json::object();
  if (!given.is_object()) return out;
  for (auto it = given.begin(); it != given.end(); ++it) {
    const std::string field = "hyperparameters." + it.key();
    if (it.key() == "tuning") {
      const Json& t = it.value();
      if (!t.is_object()) {
        errors.Add(field, "must be an object {trials, timeBudgetSeconds}");
        continue;
      }
      Json tuning = {{"trials", 10}, {"timeBudgetSeconds", 300}};
      for (auto tt = t.begin(); tt != t.end(); ++tt) {
        HyperparamSpec spec;
        spec.type = HyperparamSpec::Type::kInt;
        if (tt.key() == "trials") {
          spec.min = 1;
          spec.max = 200;
        } else if (tt.key() == "timeBudgetSeconds") {
          spec.min = 1;
          spec.max = 86400;
        } else {
          errors.Add(field + "." + tt.key(), "unknown field; known: trials, timeBudgetSeconds");
          continue;
        }
        if (CheckValue(spec, tt.value(), field + "." + tt.key(), errors)) {
          tuning[tt.key()] = static_cast<int64_t>(tt.value().get<double>());
        }
      }
      out["tuning"] = tuning;
      continue;
    }
    const HyperparamSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == it.key()) spec = &s;
    }
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& s : specs) names.push_back(s.name);
      names.push_back("tuning");
      errors.Add(field, common::StrCat("unknown hyperparameter; known: ",
                                       common::StrJoin(names, ", ")));
      continue;
    }
    if (it.value().is_null()) continue;
    if (CheckValue(*spec, it.value(), field, errors)) {
      out[it.key()] = spec->type == HyperparamSpec::Type::kInt
                          ? Json(static_cast<int64_t>(it.value().get<double>()))
                          : it.value();
    }
  }
  for (const auto& s : specs) {
    if (!out.contains(s.name) && !s.default_value.is_null()) out[s.name] = s.default_value;
  }
  return out;
}

std::string HyperparamTable(const std::vector<HyperparamSpec>& specs) {
  std::string out = "| name | type | range / choices | default | meaning |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& s : specs) {
    std::string range;
    if (s.type == HyperparamSpec::Type::kInt || s.type == HyperparamSpec::Type::kNumber) {
      range = common::StrCat(Num(s.min), " – ", Num(s.max));
    } else if (s.type == HyperparamSpec::Type::kEnum) {
      range = common::StrJoin(s.choices, ", ");
    }
    common::StrAppend(&out, "| `", s.name, "` | ", TypeName(s.type), " | ", range, " | ",
                      s.default_value.is_null() ? std::string("—") : s.default_value.dump(),
                      " | ", s.description, " |\n");
  }
  return out;
}

}  // namespace tsml::train
