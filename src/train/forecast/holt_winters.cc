#include "train/forecast/holt_winters.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "common/strings.h"

namespace tsml::train::forecast {
namespace {

constexpr double kPhiMin = 0.8;

double Mean(std::span<const double> v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The active parameters as a vector (alpha, then beta/phi when trending, gamma when seasonal).
struct Layout {
  bool trend;
  bool seasonal;
  size_t dims() const { return 1 + (trend ? 2 : 0) + (seasonal ? 1 : 0); }
  std::vector<double> Pack(const HoltWintersParams& p) const {
    std::vector<double> x = {p.alpha};
    if (trend) {
      x.push_back(p.beta);
      x.push_back(p.phi);
    }
    if (seasonal) x.push_back(p.gamma);
    return x;
  }
  HoltWintersParams Unpack(const std::vector<double>& x) const {
    HoltWintersParams p;
    size_t i = 0;
    p.alpha = std::clamp(x[i++], 0.0, 1.0);
    p.beta = 0;
    p.phi = 1;
    p.gamma = 0;
    if (trend) {
      p.beta = std::clamp(x[i++], 0.0, 1.0);
      p.phi = std::clamp(x[i++], kPhiMin, 1.0);
    }
    if (seasonal) p.gamma = std::clamp(x[i++], 0.0, 1.0);
    return p;
  }
};

// Nelder–Mead over the box (points are clamped when evaluated).
std::vector<double> NelderMead(const std::function<double(const std::vector<double>&)>& f,
                               std::vector<double> x0, int iterations) {
  const size_t d = x0.size();
  std::vector<std::vector<double>> pts(d + 1, x0);
  for (size_t i = 0; i < d; ++i) pts[i + 1][i] += (x0[i] > 0.5 ? -0.1 : 0.1);
  std::vector<double> val(d + 1);
  for (size_t i = 0; i <= d; ++i) val[i] = f(pts[i]);
  for (int it = 0; it < iterations; ++it) {
    std::vector<size_t> order(d + 1);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return val[a] < val[b]; });
    std::vector<std::vector<double>> p2;
    std::vector<double> v2;
    for (size_t i : order) {
      p2.push_back(pts[i]);
      v2.push_back(val[i]);
    }
    pts.swap(p2);
    val.swap(v2);
    if (std::fabs(val[d] - val[0]) <= 1e-10 * (std::fabs(val[0]) + 1e-12)) break;
    std::vector<double> centroid(d, 0.0);
    for (size_t i = 0; i < d; ++i) {
      for (size_t k = 0; k < d; ++k) centroid[k] += pts[i][k] / static_cast<double>(d);
    }
    auto along = [&](double t) {
      std::vector<double> x(d);
      for (size_t k = 0; k < d; ++k) x[k] = centroid[k] + t * (pts[d][k] - centroid[k]);
      return x;
    };
    std::vector<double> xr = along(-1.0);
    const double fr = f(xr);
    if (fr < val[0]) {
      std::vector<double> xe = along(-2.0);
      const double fe = f(xe);
      if (fe < fr) {
        pts[d] = xe;
        val[d] = fe;
      } else {
        pts[d] = xr;
        val[d] = fr;
      }
    } else if (fr < val[d - 1]) {
      pts[d] = xr;
      val[d] = fr;
    } else {
      std::vector<double> xc = along(fr < val[d] ? -0.5 : 0.5);
      const double fc = f(xc);
      if (fc < std::min(fr, val[d])) {
        pts[d] = xc;
        val[d] = fc;
      } else {
        for (size_t i = 1; i <= d; ++i) {
          for (size_t k = 0; k < d; ++k) pts[i][k] = pts[0][k] + 0.5 * (pts[i][k] - pts[0][k]);
          val[i] = f(pts[i]);
        }
      }
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= d; ++i) {
    if (val[i] < val[best]) best = i;
  }
  return pts[best];
}

}  // namespace

double HoltWintersSse(std::span<const double> y, int season, bool trend, const HoltWintersParams& p,
                      HoltWintersModel* model) {
  const size_t n = y.size();
  const bool seasonal = season > 1 && n >= 2 * static_cast<size_t>(season);
  const size_t s = seasonal ? static_cast<size_t>(season) : 0;
  double level = 0, slope = 0;
  std::vector<double> S(std::max<size_t>(s, 1), 0.0);
  size_t t0 = 0;
  if (seasonal) {
    const size_t k = std::min<size_t>(n / s, 4);
    const double m0 = Mean(y.subspan(0, s));
    const double m1 = Mean(y.subspan(s, s));
    slope = trend ? (m1 - m0) / static_cast<double>(s) : 0.0;
    for (size_t j = 0; j < k; ++j) {
      const double mj = Mean(y.subspan(j * s, s));
      for (size_t i = 0; i < s; ++i) S[i] += (y[j * s + i] - mj) / static_cast<double>(k);
    }
    level = m0 + slope * (static_cast<double>(s) - 1) / 2.0;
    t0 = s;
  } else {
    level = y.empty() ? 0 : y[0];
    if (trend && n >= 4) slope = (y[3] - y[0]) / 3.0;
    t0 = 1;
  }
  double sse = 0;
  for (size_t t = t0; t < n; ++t) {
    const double st = seasonal ? S[t % s] : 0.0;
    const double yhat = level + p.phi * slope + st;
    const double e = y[t] - yhat;
    sse += e * e;
    const double new_level = p.alpha * (y[t] - st) + (1 - p.alpha) * (level + p.phi * slope);
    if (trend) slope = p.beta * (new_level - level) + (1 - p.beta) * p.phi * slope;
    if (seasonal) S[t % s] = p.gamma * (y[t] - new_level) + (1 - p.gamma) * st;
    level = new_level;
  }
  if (!std::isfinite(sse)) sse = std::numeric_limits<double>::infinity();
  if (model != nullptr) {
    model->season = static_cast<int>(s);
    model->trend = trend;
    model->params = p;
    model->level = level;
    model->slope = slope;
    model->seasonal = seasonal ? S : std::vector<double>();
    model->n = static_cast<int64_t>(n);
    model->sse = sse;
    model->non_negative = std::all_of(y.begin(), y.end(), [](double v) { return v >= 0; });
  }
  return sse;
}

absl::StatusOr<HoltWintersModel> FitHoltWinters(std::span<const double> y, int season) {
  if (y.empty()) return absl::InvalidArgumentError("Holt-Winters needs at least one value");
  for (double v : y) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("Holt-Winters: non-finite value");
  }
  const Layout layout{y.size() >= 4, season > 1 && y.size() >= 2 * static_cast<size_t>(season)};
  auto objective = [&](const std::vector<double>& x) {
    return HoltWintersSse(y, season, layout.trend, layout.Unpack(x));
  };
  // Coarse grid over the active parameters.
  const std::array<double, 7> alphas = {0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9};
  const std::vector<double> betas =
      layout.trend ? std::vector<double>{0.0, 0.02, 0.05, 0.1, 0.2} : std::vector<double>{0.0};
  const std::vector<double> phis =
      layout.trend ? std::vector<double>{0.9, 0.98} : std::vector<double>{1.0};
  const std::vector<double> gammas =
      layout.seasonal ? std::vector<double>{0.0, 0.05, 0.1, 0.2, 0.35} : std::vector<double>{0.0};
  HoltWintersParams best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (double a : alphas) {
    for (double b : betas) {
      for (double ph : phis) {
        for (double g : gammas) {
          const HoltWintersParams p{a, b, g, ph};
          const double sse = HoltWintersSse(y, season, layout.trend, p);
          if (sse < best_sse) {
            best_sse = sse;
            best = p;
          }
        }
      }
    }
  }
  std::vector<double> x = NelderMead(objective, layout.Pack(best), 120);
  HoltWintersParams refined = layout.Unpack(x);
  if (objective(x) > best_sse) refined = best;
  HoltWintersModel model;
  HoltWintersSse(y, season, layout.trend, refined, &model);
  return model;
}

std::vector<double> HoltWintersModel::Forecast(int h) const {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(std::max(0, h)));
  double damp = 0, power = 1;
  for (int k = 1; k <= h; ++k) {
    power *= params.phi;
    damp += power;
    double v = level + (trend ? damp * slope : 0.0);
    if (season > 0) {
      v += seasonal[static_cast<size_t>((n + k - 1) % season)];
    }
    if (non_negative) v = std::max(0.0, v);
    out.push_back(v);
  }
  return out;
}

Json HoltWintersModel::ToJson() const {
  return Json{{"season", season},
              {"trend", trend},
              {"alpha", params.alpha},
              {"beta", params.beta},
              {"gamma", params.gamma},
              {"phi", params.phi},
              {"level", level},
              {"slope", slope},
              {"seasonal", seasonal},
              {"n", n},
              {"sse", sse},
              {"nonNegative", non_negative}};
}

absl::StatusOr<HoltWintersModel> HoltWintersModel::FromJson(const Json& j) {
  try {
    HoltWintersModel m;
    m.season = j.at("season").get<int>();
    m.trend = j.at("trend").get<bool>();
    m.params.alpha = j.at("alpha").get<double>();
    m.params.beta = j.at("beta").get<double>();
    m.params.gamma = j.at("gamma").get<double>();
    m.params.phi = j.at("phi").get<double>();
    m.level = j.at("level").get<double>();
    m.slope = j.at("slope").get<double>();
    m.seasonal = j.at("seasonal").get<std::vector<double>>();
    m.n = j.at("n").get<int64_t>();
    m.sse = j.value("sse", 0.0);
    m.non_negative = j.value("nonNegative", false);
    if (m.season < 0 || (m.season > 0 && m.seasonal.size() != static_cast<size_t>(m.season)) ||
        m.n < 0) {
      return absl::InvalidArgumentError("Holt-Winters state is inconsistent");
    }
    return m;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(common::StrCat("Holt-Winters state: ", e.what()));
  }
}

}  // namespace tsml::train::forecast
