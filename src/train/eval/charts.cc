#include "train/eval/charts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <utility>

#include "absl/status/status.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace tsml::train::eval {
namespace {

using common::StrAppend;
using common::StrCat;

constexpr double kW = kChartWidth;
constexpr double kH = kChartHeight;
constexpr std::array<const char*, 8> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                 "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

// Coordinates with two decimals keep files small and output deterministic.
std::string Num(double v) {
  if (std::abs(v) < 0.005) v = 0;  // no "-0.00"
  return fmt::format("{:.2f}", v);
}

// Number of UTF-8 code points (continuation bytes are not counted).
size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// At most `max` code points, an ellipsis marking the cut; never splits a code point.
std::string Truncate(std::string_view s, size_t max) {
  if (CodePoints(s) <= max) return std::string(s);
  size_t kept = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (kept == max - 1) break;
      ++kept;
    }
  }
  return StrCat(s.substr(0, i), "\u2026");
}

// Keeps the start and the end (where names tend to differ, e.g. "plan_type=premium").
std::string TruncateMiddle(std::string_view s, size_t max) {
  if (CodePoints(s) <= max) return std::string(s);
  const size_t head = (max - 1) / 2, tail = max - 1 - head;
  size_t i = 0, kept = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && kept++ == head) break;
  }
  size_t j = s.size(), kept_tail = 0;
  while (j > i && kept_tail < tail) {
    --j;
    if ((static_cast<unsigned char>(s[j]) & 0xC0) != 0x80) ++kept_tail;
  }
  return StrCat(s.substr(0, i), "\u2026", s.substr(j));
}

// Bar values: short, fixed-point where that reads well.
std::string ValueLabel(double v) {
  const double a = std::abs(v);
  if (a >= 1e6 || (a > 0 && a < 1e-3)) return fmt::format("{:.2e}", v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  if (a >= 1) return fmt::format("{:.2f}", v);
  return fmt::format("{:.3f}", v);
}

// Text element content: escaped and truncated.
std::string Text(std::string_view s, size_t max) { return XmlEscape(Truncate(s, max)); }

double NiceStep(double range, int target_ticks) {
  const double raw = range / target_ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double nice = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return nice * mag;
}

struct Axis {
  double min = 0, max = 1, step = 0.2;
  std::vector<double> ticks;
};

// Nice ticks over [lo, hi]; an auto (not `fixed`) range is widened to whole ticks. nullopt
// when the span cannot be represented (values near the limits of double).
std::optional<Axis> MakeAxis(double lo, double hi, bool fixed) {
  if (hi <= lo) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.5;
    lo -= pad;
    hi += pad;
  }
  Axis a;
  a.step = NiceStep(hi - lo, 5);
  if (!std::isfinite(hi - lo) || !std::isfinite(a.step) || a.step <= 0) return std::nullopt;
  if (!fixed) {
    lo = std::floor(lo / a.step + 1e-9) * a.step;
    hi = std::ceil(hi / a.step - 1e-9) * a.step;
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) return std::nullopt;
  a.min = lo;
  a.max = hi;
  const double first = std::ceil(lo / a.step - 1e-9);
  // Bounded: with a span tiny next to its magnitude, first + n may stop advancing.
  for (int n = 0; n < 50; ++n) {
    const double v = (first + n) * a.step;
    if (v > hi + a.step * 1e-9) break;
    if (a.ticks.empty() || v > a.ticks.back()) a.ticks.push_back(v);
  }
  return a;
}

std::string TickLabel(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (std::abs(v) < step * 1e-9) v = 0;
  return fmt::format("{:.{}f}", v, decimals);
}

std::string SvgOpen(std::string_view title) {
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"Helvetica, Arial, sans-serif\" "
      "font-size=\"12\">\n",
      kChartWidth, kChartHeight);
  StrAppend(&out, "<title>", Text(title, 200), "</title>\n");
  StrAppend(&out, "<rect x=\"0\" y=\"0\" width=\"", kChartWidth, "\" height=\"", kChartHeight,
            "\" fill=\"#ffffff\"/>\n");
  StrAppend(&out, "<text x=\"", Num(kW / 2),
            "\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" "
            "font-weight=\"bold\">",
            Text(title, 70), "</text>\n");
  return out;
}

constexpr char kSvgClose[] = "</svg>\n";

struct Frame {
  double left, top, right, bottom;
};

// Grid lines, axes, ticks, tick labels and axis titles.
void DrawAxes(std::string* out, const Frame& f, const Axis& xa, const Axis& ya,
              std::string_view x_label, std::string_view y_label) {
  auto sx = [&](double x) {
    return f.left + (x - xa.min) / (xa.max - xa.min) * (f.right - f.left);
  };
  auto sy = [&](double y) {
    return f.bottom - (y - ya.min) / (ya.max - ya.min) * (f.bottom - f.top);
  };
  StrAppend(out, "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
  for (double t : xa.ticks) {
    StrAppend(out, "<line x1=\"", Num(sx(t)), "\" y1=\"", Num(f.top), "\" x2=\"", Num(sx(t)),
              "\" y2=\"", Num(f.bottom), "\"/>\n");
  }
  for (double t : ya.ticks) {
    StrAppend(out, "<line x1=\"", Num(f.left), "\" y1=\"", Num(sy(t)), "\" x2=\"", Num(f.right),
              "\" y2=\"", Num(sy(t)), "\"/>\n");
  }
  StrAppend(out, "</g>\n<g stroke=\"#333333\" stroke-width=\"1\">\n");
  StrAppend(out, "<line x1=\"", Num(f.left), "\" y1=\"", Num(f.bottom), "\" x2=\"", Num(f.right),
            "\" y2=\"", Num(f.bottom), "\"/>\n");
  StrAppend(out, "<line x1=\"", Num(f.left), "\" y1=\"", Num(f.top), "\" x2=\"", Num(f.left),
            "\" y2=\"", Num(f.bottom), "\"/>\n");
  for (double t : xa.ticks) {
    StrAppend(out, "<line x1=\"", Num(sx(t)), "\" y1=\"", Num(f.bottom), "\" x2=\"", Num(sx(t)),
              "\" y2=\"", Num(f.bottom + 5), "\"/>\n");
  }
  for (double t : ya.ticks) {
    StrAppend(out, "<line x1=\"", Num(f.left - 5), "\" y1=\"", Num(sy(t)), "\" x2=\"", Num(f.left),
              "\" y2=\"", Num(sy(t)), "\"/>\n");
  }
  StrAppend(out, "</g>\n<g fill=\"#333333\" font-size=\"11\">\n");
  for (double t : xa.ticks) {
    StrAppend(out, "<text x=\"", Num(sx(t)), "\" y=\"", Num(f.bottom + 18),
              "\" text-anchor=\"middle\">", TickLabel(t, xa.step), "</text>\n");
  }
  for (double t : ya.ticks) {
    StrAppend(out, "<text x=\"", Num(f.left - 8), "\" y=\"", Num(sy(t) + 4),
              "\" text-anchor=\"end\">", TickLabel(t, ya.step), "</text>\n");
  }
  StrAppend(out, "</g>\n");
  if (!x_label.empty()) {
    StrAppend(out, "<text x=\"", Num((f.left + f.right) / 2), "\" y=\"", Num(f.bottom + 40),
              "\" text-anchor=\"middle\">", Text(x_label, 60), "</text>\n");
  }
  if (!y_label.empty()) {
    const double cy = (f.top + f.bottom) / 2;
    StrAppend(out, "<text x=\"18\" y=\"", Num(cy),
              "\" text-anchor=\"middle\" transform=\"rotate(-90 18 ", Num(cy), ")\">",
              Text(y_label, 40), "</text>\n");
  }
}

absl::Status JsonError(std::string_view what, const std::exception& e) {
  return absl::InvalidArgumentError(StrCat(what, ": ", e.what()));
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        default:
          if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8: copy a well-formed sequence, replace anything else with U+FFFD.
    const int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len > 0 && i + static_cast<size_t>(len) <= text.size();
    uint32_t cp = ok ? (c & (0x7F >> len)) : 0;
    for (int k = 1; ok && k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(text[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= kMinForLen[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
         cp != 0xFFFE && cp != 0xFFFF;
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\uFFFD";
      ++i;
    }
  }
  return out;
}

absl::StatusOr<std::string> RenderLineChart(const LineChart& chart) {
  if (chart.series.empty()) return absl::InvalidArgumentError("line chart: no series");
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  bool any = false;
  for (const Series& s : chart.series) {
    if (s.x.size() != s.y.size()) {
      return absl::InvalidArgumentError(StrCat("line chart: series '", s.name, "' has ", s.x.size(),
                                               " x values and ", s.y.size(), " y values"));
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      any = true;
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
    }
  }
  if (!any) return absl::InvalidArgumentError("line chart: no finite point to plot");
  if (chart.marker_x.has_value() && std::isfinite(*chart.marker_x)) {
    xlo = std::min(xlo, *chart.marker_x);
    xhi = std::max(xhi, *chart.marker_x);
  }
  for (const std::optional<AxisRange>& r : {chart.x_range, chart.y_range}) {
    if (r.has_value() && !(std::isfinite(r->min) && std::isfinite(r->max) && r->min < r->max)) {
      return absl::InvalidArgumentError("line chart: an axis range is empty or not finite");
    }
  }
  const std::optional<Axis> x_axis = chart.x_range
                                         ? MakeAxis(chart.x_range->min, chart.x_range->max, true)
                                         : MakeAxis(xlo, xhi, false);
  const std::optional<Axis> y_axis = chart.y_range
                                         ? MakeAxis(chart.y_range->min, chart.y_range->max, true)
                                         : MakeAxis(ylo, yhi, false);
  if (!x_axis || !y_axis) return absl::InvalidArgumentError("line chart: values too large to plot");
  const Axis& xa = *x_axis;
  const Axis& ya = *y_axis;
  const Frame f{70, 44, kW - 170, kH - 58};
  auto sx = [&](double x) {
    return f.left + (x - xa.min) / (xa.max - xa.min) * (f.right - f.left);
  };
  auto sy = [&](double y) {
    return f.bottom - (y - ya.min) / (ya.max - ya.min) * (f.bottom - f.top);
  };

  std::string out = SvgOpen(chart.title);
  StrAppend(&out, "<defs><clipPath id=\"plot-area\"><rect x=\"", Num(f.left), "\" y=\"", Num(f.top),
            "\" width=\"", Num(f.right - f.left), "\" height=\"", Num(f.bottom - f.top),
            "\"/></clipPath></defs>\n");
  DrawAxes(&out, f, xa, ya, chart.x_label, chart.y_label);

  if (chart.marker_x.has_value() && std::isfinite(*chart.marker_x)) {
    const double mx = sx(*chart.marker_x);
    StrAppend(&out, "<line x1=\"", Num(mx), "\" y1=\"", Num(f.top), "\" x2=\"", Num(mx), "\" y2=\"",
              Num(f.bottom),
              "\" stroke=\"#555555\" stroke-width=\"1\" stroke-dasharray=\"3,3\"/>\n");
    if (!chart.marker_label.empty()) {
      StrAppend(&out, "<text x=\"", Num(mx + 4), "\" y=\"", Num(f.top + 12),
                "\" font-size=\"11\" fill=\"#555555\">", Text(chart.marker_label, 30), "</text>\n");
    }
  }

  StrAppend(&out,
            "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"2\" "
            "stroke-linejoin=\"round\">\n");
  for (size_t si = 0; si < chart.series.size(); ++si) {
    const Series& s = chart.series[si];
    const char* color = kPalette[si % kPalette.size()];
    const std::string dash = s.dashed ? " stroke-dasharray=\"6,4\"" : "";
    // Non-finite points split the line into runs.
    std::vector<std::pair<double, double>> run;
    auto flush = [&] {
      if (run.size() == 1) {
        StrAppend(&out, "<circle cx=\"", Num(run[0].first), "\" cy=\"", Num(run[0].second),
                  "\" r=\"2.5\" fill=\"", color, "\" stroke=\"none\"/>\n");
      } else if (run.size() > 1) {
        StrAppend(&out, "<polyline stroke=\"", color, "\"", dash, " points=\"");
        for (size_t i = 0; i < run.size(); ++i) {
          StrAppend(&out, i ? " " : "", Num(run[i].first), ",", Num(run[i].second));
        }
        StrAppend(&out, "\"/>\n");
      }
      run.clear();
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        run.emplace_back(sx(s.x[i]), sy(s.y[i]));
      } else {
        flush();
      }
    }
    flush();
  }
  StrAppend(&out, "</g>\n");

  // Legend, right of the plot.
  StrAppend(&out, "<g font-size=\"11\">\n");
  double ly = f.top + 10;
  for (size_t si = 0; si < chart.series.size(); ++si) {
    const Series& s = chart.series[si];
    const double lx = f.right + 14;
    StrAppend(&out, "<line x1=\"", Num(lx), "\" y1=\"", Num(ly), "\" x2=\"", Num(lx + 22),
              "\" y2=\"", Num(ly), "\" stroke=\"", kPalette[si % kPalette.size()],
              "\" stroke-width=\"2\"", s.dashed ? " stroke-dasharray=\"6,4\"" : "", "/>\n");
    StrAppend(&out, "<text x=\"", Num(lx + 28), "\" y=\"", Num(ly + 4), "\">", Text(s.name, 20),
              "</text>\n");
    ly += 18;
  }
  StrAppend(&out, "</g>\n", kSvgClose);
  return out;
}

absl::StatusOr<std::string> RenderBarChart(const BarChart& chart) {
  if (chart.bars.empty()) return absl::InvalidArgumentError("bar chart: no bars");
  if (chart.max_bars < 1) return absl::InvalidArgumentError("bar chart: max_bars must be >= 1");
  for (const Bar& b : chart.bars) {
    if (!std::isfinite(b.value)) {
      return absl::InvalidArgumentError(
          StrCat("bar chart: value of '", b.label, "' is not finite"));
    }
  }
  std::vector<Bar> bars = chart.bars;
  std::stable_sort(bars.begin(), bars.end(),
                   [](const Bar& a, const Bar& b) { return a.value > b.value; });
  if (bars.size() > static_cast<size_t>(chart.max_bars)) bars.resize(chart.max_bars);

  double lo = 0, hi = 0;
  for (const Bar& b : bars) {
    lo = std::min(lo, b.value);
    hi = std::max(hi, b.value);
  }
  const std::optional<Axis> x_axis = MakeAxis(lo, hi, false);
  if (!x_axis) return absl::InvalidArgumentError("bar chart: values too large to plot");
  const Axis& xa = *x_axis;
  const Frame f{190, 44, kW - 60, kH - 58};
  auto sx = [&](double x) {
    return f.left + (x - xa.min) / (xa.max - xa.min) * (f.right - f.left);
  };
  // A y axis with no ticks: rows are labelled by the bars themselves.
  Axis ya;
  ya.ticks.clear();

  std::string out = SvgOpen(chart.title);
  DrawAxes(&out, f, xa, ya, chart.x_label, "");
  const double row = (f.bottom - f.top) / static_cast<double>(bars.size());
  const double bar_h = std::min(24.0, row * 0.7);
  const double font = std::clamp(row * 0.6, 8.0, 12.0);
  StrAppend(&out, "<g font-size=\"", Num(font), "\">\n");
  for (size_t i = 0; i < bars.size(); ++i) {
    const double cy = f.top + row * (static_cast<double>(i) + 0.5);
    const double x0 = sx(0), x1 = sx(bars[i].value);
    StrAppend(&out, "<rect x=\"", Num(std::min(x0, x1)), "\" y=\"", Num(cy - bar_h / 2),
              "\" width=\"", Num(std::abs(x1 - x0)), "\" height=\"", Num(bar_h), "\" fill=\"",
              kPalette[0], "\"/>\n");
    StrAppend(&out, "<text x=\"", Num(f.left - 8), "\" y=\"", Num(cy + font / 3),
              "\" text-anchor=\"end\">", XmlEscape(TruncateMiddle(bars[i].label, 28)), "</text>\n");
    const bool negative = bars[i].value < 0;
    StrAppend(&out, "<text x=\"", Num(negative ? x1 - 4 : x1 + 4), "\" y=\"", Num(cy + font / 3),
              "\" text-anchor=\"", negative ? "end" : "start", "\" fill=\"#333333\">",
              ValueLabel(bars[i].value), "</text>\n");
  }
  StrAppend(&out, "</g>\n", kSvgClose);
  return out;
}

absl::StatusOr<std::string> RenderHeatmap(const Heatmap& heatmap) {
  const size_t k = heatmap.labels.size();
  if (k == 0) return absl::InvalidArgumentError("heatmap: no labels");
  if (heatmap.counts.size() != k) {
    return absl::InvalidArgumentError(
        StrCat("heatmap: ", heatmap.counts.size(), " rows for ", k, " labels"));
  }
  int64_t max_count = 0;
  for (const std::vector<int64_t>& r : heatmap.counts) {
    if (r.size() != k) {
      return absl::InvalidArgumentError(
          StrCat("heatmap: a row has ", r.size(), " cells, expected ", k));
    }
    for (int64_t c : r) {
      if (c < 0) return absl::InvalidArgumentError("heatmap: negative count");
      max_count = std::max(max_count, c);
    }
  }
  const double top = 50;
  const double size = std::min(kW - 180, kH - top - (k > 6 ? 100 : 80));  // slanted labels
  const double left = std::max(150.0, (kW - size) / 2);  // centred, room for row labels
  const double cell = size / static_cast<double>(k);

  std::string out = SvgOpen(heatmap.title);
  StrAppend(&out, "<g stroke=\"#ffffff\" stroke-width=\"1\">\n");
  std::string labels;
  const double count_font = std::clamp(cell * 0.3, 7.0, 13.0);
  for (size_t r = 0; r < k; ++r) {
    for (size_t c = 0; c < k; ++c) {
      const int64_t n = heatmap.counts[r][c];
      const double t = max_count > 0 ? static_cast<double>(n) / static_cast<double>(max_count) : 0;
      // White-ish (#f7fbff) to dark blue (#08306b).
      const int red = static_cast<int>(std::lround(247 + (8 - 247) * t));
      const int green = static_cast<int>(std::lround(251 + (48 - 251) * t));
      const int blue = static_cast<int>(std::lround(255 + (107 - 255) * t));
      const double x = left + cell * static_cast<double>(c);
      const double y = top + cell * static_cast<double>(r);
      StrAppend(&out, "<rect x=\"", Num(x), "\" y=\"", Num(y), "\" width=\"", Num(cell),
                "\" height=\"", Num(cell), "\" fill=\"",
                fmt::format("#{:02x}{:02x}{:02x}", red, green, blue), "\"/>\n");
      if (cell >= 14) {
        StrAppend(&labels, "<text x=\"", Num(x + cell / 2), "\" y=\"",
                  Num(y + cell / 2 + count_font / 3), "\" text-anchor=\"middle\" font-size=\"",
                  Num(count_font), "\" fill=\"", t > 0.5 ? "#ffffff" : "#111111", "\">", n,
                  "</text>\n");
      }
    }
  }
  StrAppend(&out, "</g>\n<g>\n", labels, "</g>\n");
  StrAppend(&out, "<rect x=\"", Num(left), "\" y=\"", Num(top), "\" width=\"", Num(size),
            "\" height=\"", Num(size),
            "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n");

  // Class labels: rows on the left, columns below (slanted when there are many).
  if (cell >= 6) {
    const double font = std::min(12.0, std::max(6.0, cell * 0.6));
    StrAppend(&out, "<g font-size=\"", Num(font), "\" fill=\"#333333\">\n");
    const bool slanted = k > 6;
    for (size_t i = 0; i < k; ++i) {
      const double cy = top + cell * (static_cast<double>(i) + 0.5);
      StrAppend(&out, "<text x=\"", Num(left - 6), "\" y=\"", Num(cy + font / 3),
                "\" text-anchor=\"end\">", XmlEscape(TruncateMiddle(heatmap.labels[i], 22)),
                "</text>\n");
      const double cx = left + cell * (static_cast<double>(i) + 0.5);
      const double ty = top + size + 14;
      if (slanted) {
        StrAppend(&out, "<text x=\"", Num(cx), "\" y=\"", Num(ty),
                  "\" text-anchor=\"end\" "
                  "transform=\"rotate(-45 ",
                  Num(cx), " ", Num(ty), ")\">", Text(heatmap.labels[i], 10), "</text>\n");
      } else {
        StrAppend(&out, "<text x=\"", Num(cx), "\" y=\"", Num(ty), "\" text-anchor=\"middle\">",
                  Text(heatmap.labels[i], 12), "</text>\n");
      }
    }
    StrAppend(&out, "</g>\n");
  }
  if (!heatmap.x_label.empty()) {
    const double label_y = std::min(kH - 8, top + size + (k > 6 && cell >= 6 ? 92 : 38));
    StrAppend(&out, "<text x=\"", Num(left + size / 2), "\" y=\"", Num(label_y),
              "\" text-anchor=\"middle\">", Text(heatmap.x_label, 60), "</text>\n");
  }
  if (!heatmap.y_label.empty()) {
    const double cy = top + size / 2;
    StrAppend(&out, "<text x=\"18\" y=\"", Num(cy),
              "\" text-anchor=\"middle\" transform=\"rotate(-90 18 ", Num(cy), ")\">",
              Text(heatmap.y_label, 40), "</text>\n");
  }
  StrAppend(&out, kSvgClose);
  return out;
}

absl::StatusOr<std::string> RocChartSvg(const Json& roc_curve, std::optional<double> auc) {
  Series roc{auc ? fmt::format("ROC (AUC {:.3f})", *auc) : "ROC", {}, {}, false};
  try {
    if (!roc_curve.is_array()) return absl::InvalidArgumentError("ROC curve must be an array");
    for (const Json& point : roc_curve) {
      roc.x.push_back(point.at("fpr").get<double>());
      roc.y.push_back(point.at("tpr").get<double>());
    }
  } catch (const std::exception& e) {
    return JsonError("ROC curve", e);
  }
  if (roc.x.empty()) return absl::InvalidArgumentError("ROC curve is empty (one class only)");
  LineChart chart{.title = "ROC curve",
                  .x_label = "False positive rate",
                  .y_label = "True positive rate",
                  .series = {std::move(roc), Series{"Chance", {0, 1}, {0, 1}, true}},
                  .x_range = AxisRange{0, 1},
                  .y_range = AxisRange{0, 1}};
  return RenderLineChart(chart);
}

absl::StatusOr<std::string> PrecisionRecallChartSvg(const Json& pr_curve,
                                                    std::optional<double> average_precision) {
  Series pr{
      average_precision ? fmt::format("PR (AP {:.3f})", *average_precision) : "Precision-recall",
      {},
      {},
      false};
  try {
    if (!pr_curve.is_array()) return absl::InvalidArgumentError("PR curve must be an array");
    for (const Json& point : pr_curve) {
      pr.x.push_back(point.at("recall").get<double>());
      pr.y.push_back(point.at("precision").get<double>());
    }
  } catch (const std::exception& e) {
    return JsonError("precision-recall curve", e);
  }
  if (pr.x.empty()) return absl::InvalidArgumentError("precision-recall curve is empty");
  LineChart chart{.title = "Precision-recall curve",
                  .x_label = "Recall",
                  .y_label = "Precision",
                  .series = {std::move(pr)},
                  .x_range = AxisRange{0, 1},
                  .y_range = AxisRange{0, 1}};
  return RenderLineChart(chart);
}

absl::StatusOr<std::string> ConfusionMatrixSvg(const Json& confusion_matrix,
                                               std::string_view title) {
  Heatmap heatmap;
  heatmap.title = std::string(title);
  try {
    heatmap.labels = confusion_matrix.at("labels").get<std::vector<std::string>>();
    heatmap.counts = confusion_matrix.at("counts").get<std::vector<std::vector<int64_t>>>();
  } catch (const std::exception& e) {
    return JsonError("confusion matrix", e);
  }
  return RenderHeatmap(heatmap);
}

absl::StatusOr<std::string> FeatureImportanceSvg(std::vector<Bar> importances,
                                                 std::string_view title) {
  return RenderBarChart(BarChart{.title = std::string(title),
                                 .x_label = "Importance",
                                 .bars = std::move(importances),
                                 .max_bars = kMaxBars});
}

absl::StatusOr<std::string> ForecastChartSvg(std::span<const double> train_actual,
                                             std::span<const double> test_actual,
                                             std::span<const double> forecast,
                                             std::string_view title) {
  if (test_actual.empty() || test_actual.size() != forecast.size()) {
    return absl::InvalidArgumentError(StrCat("forecast chart: ", test_actual.size(),
                                             " held-out actuals and ", forecast.size(),
                                             " forecasts (must be equal and non-zero)"));
  }
  Series actual{"Actual", {}, {}, false};
  Series predicted{"Forecast", {}, {}, true};
  const size_t n_train = train_actual.size();
  for (size_t i = 0; i < n_train; ++i) {
    actual.x.push_back(static_cast<double>(i));
    actual.y.push_back(train_actual[i]);
  }
  for (size_t i = 0; i < test_actual.size(); ++i) {
    const double x = static_cast<double>(n_train + i);
    actual.x.push_back(x);
    actual.y.push_back(test_actual[i]);
    predicted.x.push_back(x);
    predicted.y.push_back(forecast[i]);
  }
  LineChart chart{.title = std::string(title),
                  .x_label = "Period",
                  .y_label = "Value",
                  .series = {std::move(actual), std::move(predicted)}};
  if (n_train > 0) {
    chart.marker_x = static_cast<double>(n_train) - 0.5;
    chart.marker_label = "train | test";
  }
  return RenderLineChart(chart);
}

}  // namespace tsml::train::eval
