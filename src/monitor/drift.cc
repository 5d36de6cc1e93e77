#include "monitor/drift.h"

#include <algorithm>
#include <cmath>

namespace tsml::monitor {
namespace {

std::string StatusOf(double psi) {
  return psi < 0.1 ? "stable" : psi < 0.2 ? "moderate" : "significant";
}

std::vector<uint64_t> Load(const std::atomic<uint64_t>* c, size_t n) {
  std::vector<uint64_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = c[i].load(std::memory_order_relaxed);
  return out;
}

}  // namespace

size_t DriftColumn::BinOf(const Json& v) const {
  const size_t missing = bins() - 1;
  if (numeric) {
    double x;
    if (v.is_number()) {
      x = v.get<double>();
    } else if (v.is_boolean()) {
      x = v.get<bool>() ? 1 : 0;
    } else {
      return missing;
    }
    if (std::isnan(x)) return missing;
    return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin());
  }
  if (v.is_null()) return missing;
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i] == s) return i;
  }
  return levels.size();  // other
}

Json DriftReference::ToJson() const {
  auto col = [](const DriftColumn& c) {
    return Json{{"name", c.name}, {"numeric", c.numeric}, {"edges", c.edges},
                {"levels", c.levels}, {"expected", c.expected}};
  };
  Json cols = Json::array();
  for (const auto& c : columns) cols.push_back(col(c));
  return {{"columns", cols}, {"score", col(score)}};
}

DriftReference DriftReference::FromJson(const Json& j) {
  DriftReference r;
  auto col = [](const Json& c) {
    DriftColumn d;
    d.name = c.value("name", "");
    d.numeric = c.value("numeric", true);
    if (c.contains("edges")) d.edges = c["edges"].get<std::vector<double>>();
    if (c.contains("levels")) d.levels = c["levels"].get<std::vector<std::string>>();
    if (c.contains("expected")) d.expected = c["expected"].get<std::vector<double>>();
    return d;
  };
  try {
    if (j.contains("columns")) {
      for (const auto& c : j["columns"]) r.columns.push_back(col(c));
    }
    if (j.contains("score")) r.score = col(j["score"]);
  } catch (const std::exception&) {
    return DriftReference();
  }
  return r;
}

DriftColumn NumericReference(const std::string& name, const std::vector<double>& values) {
  DriftColumn c;
  c.name = name;
  c.numeric = true;
  std::vector<double> present;
  for (double v : values) {
    if (!std::isnan(v)) present.push_back(v);
  }
  std::sort(present.begin(), present.end());
  if (!present.empty()) {
    for (int q = 1; q < 10; ++q) {
      const double e = present[present.size() * q / 10];
      if (c.edges.empty() || e > c.edges.back()) c.edges.push_back(e);
    }
  }
  c.expected.assign(c.edges.size() + 2, 0);
  for (double v : values) c.expected[c.BinOf(std::isnan(v) ? Json() : Json(v))] += 1;
  for (double& e : c.expected) e /= std::max<size_t>(1, values.size());
  return c;
}

DriftColumn CategoricalReference(const std::string& name, const std::vector<std::string>& levels,
                                 const std::vector<int>& level_index) {
  DriftColumn c;
  c.name = name;
  c.numeric = false;
  c.levels = levels;
  c.expected.assign(levels.size() + 2, 0);
  for (int i : level_index) {
    const size_t bin = i >= 0 ? static_cast<size_t>(i) : i == -1 ? levels.size() : levels.size() + 1;
    c.expected[bin] += 1;
  }
  for (double& e : c.expected) e /= std::max<size_t>(1, level_index.size());
  return c;
}

double Psi(const std::vector<double>& expected, const std::vector<uint64_t>& actual) {
  uint64_t total = 0;
  for (auto a : actual) total += a;
  if (total == 0 || expected.size() != actual.size()) return 0;
  constexpr double kEps = 1e-4;
  double psi = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double e = std::max(expected[i], kEps);
    const double a = std::max(static_cast<double>(actual[i]) / total, kEps);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

DriftTracker::DriftTracker(DriftReference reference) : ref_(std::move(reference)) {
  for (const auto& c : ref_.columns) {
    counts_.emplace_back(new std::atomic<uint64_t>[c.bins()]());
  }
  score_counts_.reset(new std::atomic<uint64_t>[std::max<size_t>(1, ref_.score.bins())]());
}

void DriftTracker::Observe(const Json& instance, uint64_t weight) {
  if (!instance.is_object()) return;
  rows_.fetch_add(weight, std::memory_order_relaxed);
  static const Json kNull;
  for (size_t i = 0; i < ref_.columns.size(); ++i) {
    const DriftColumn& c = ref_.columns[i];
    auto it = instance.find(c.name);
    counts_[i][c.BinOf(it == instance.end() ? kNull : *it)].fetch_add(weight,
                                                                      std::memory_order_relaxed);
  }
}

void DriftTracker::ObserveScore(double score, uint64_t weight) {
  if (ref_.score.expected.empty()) return;
  score_counts_[ref_.score.BinOf(Json(score))].fetch_add(weight, std::memory_order_relaxed);
}

Json DriftTracker::Report() const {
  // One reading of the counters: maxPsi is the largest of the values reported here.
  Json features = Json::array();
  double max_psi = 0;
  for (size_t i = 0; i < ref_.columns.size(); ++i) {
    const double psi = Psi(ref_.columns[i].expected, Load(counts_[i].get(), ref_.columns[i].bins()));
    max_psi = std::max(max_psi, psi);
    features.push_back({{"column", ref_.columns[i].name}, {"psi", psi}, {"status", StatusOf(psi)}});
  }
  std::sort(features.begin(), features.end(),
            [](const Json& a, const Json& b) { return a["psi"].get<double>() > b["psi"].get<double>(); });
  Json out = {{"rows", rows()}, {"features", features}};
  if (!ref_.score.expected.empty()) {
    const double psi = Psi(ref_.score.expected, Load(score_counts_.get(), ref_.score.bins()));
    max_psi = std::max(max_psi, psi);
    out["prediction"] = {{"psi", psi}, {"status", StatusOf(psi)}};
  }
  out["maxPsi"] = max_psi;
  return out;
}

double DriftTracker::MaxPsi() const {
  double best = 0;
  for (size_t i = 0; i < ref_.columns.size(); ++i) {
    best = std::max(best, Psi(ref_.columns[i].expected, Load(counts_[i].get(), ref_.columns[i].bins())));
  }
  if (!ref_.score.expected.empty()) {
    best = std::max(best, Psi(ref_.score.expected, Load(score_counts_.get(), ref_.score.bins())));
  }
  return best;
}

}  // namespace tsml::monitor
