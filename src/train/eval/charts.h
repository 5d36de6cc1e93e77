// Small, self-contained SVG chart writers for evaluation reports (no charting library).
//
// Every chart is a standalone SVG document (xmlns set, fixed kChartWidth × kChartHeight,
// white background) with a title, axes, ticks, axis labels and, for line charts, a legend.
// Output is a pure function of the input: same input, byte-identical SVG. Text is XML-escaped
// and control characters are dropped, so labels taken from user data are safe to embed.
// Errors: InvalidArgument for malformed input (mismatched lengths, nothing to plot,
// non-finite bar values or negative counts); non-finite line points are drawn as gaps.
#ifndef TSML_TRAIN_EVAL_CHARTS_H_
#define TSML_TRAIN_EVAL_CHARTS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"

namespace tsml::train::eval {

inline constexpr int kChartWidth = 640;
inline constexpr int kChartHeight = 420;
inline constexpr int kMaxBars = 20;

struct AxisRange {
  double min = 0;
  double max = 1;
};

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // same length as x
  bool dashed = false;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::optional<AxisRange> x_range;  // from the data (rounded to ticks) when absent
  std::optional<AxisRange> y_range;
  std::optional<double> marker_x;  // vertical dashed marker, e.g. the train/test split
  std::string marker_label;
};

struct Bar {
  std::string label;
  double value = 0;
};

struct BarChart {
  std::string title;
  std::string x_label;
  std::vector<Bar> bars;  // drawn largest first; only the top `max_bars`
  int max_bars = kMaxBars;
};

struct Heatmap {
  std::string title;
  std::string x_label = "Predicted";
  std::string y_label = "Actual";
  std::vector<std::string> labels;           // k labels, for rows and columns
  std::vector<std::vector<int64_t>> counts;  // k × k, counts[row][column]
};

absl::StatusOr<std::string> RenderLineChart(const LineChart& chart);
// Horizontal bars, one row per bar, value printed at the end of each bar.
absl::StatusOr<std::string> RenderBarChart(const BarChart& chart);
// Cells shaded by count relative to the largest count, each cell labelled with its count.
absl::StatusOr<std::string> RenderHeatmap(const Heatmap& heatmap);

// ---- Charts over the JSON that metrics.h produces ----------------------------------------

// ROC curve ([{fpr, tpr, threshold}]) against the chance diagonal; the legend shows the AUC.
absl::StatusOr<std::string> RocChartSvg(const Json& roc_curve, std::optional<double> auc);
// Precision-recall curve ([{recall, precision, threshold}]); the legend shows the AP.
absl::StatusOr<std::string> PrecisionRecallChartSvg(const Json& pr_curve,
                                                    std::optional<double> average_precision);
// A confusion matrix ({labels, counts}) as a heatmap.
absl::StatusOr<std::string> ConfusionMatrixSvg(const Json& confusion_matrix,
                                               std::string_view title = "Confusion matrix");
// The top kMaxBars features by importance.
absl::StatusOr<std::string> FeatureImportanceSvg(std::vector<Bar> importances,
                                                 std::string_view title = "Feature importance");
// Periods 0..n-1 of `train_actual`, then the held-out periods with `test_actual` and
// `forecast` (same length), a marker at the split.
absl::StatusOr<std::string> ForecastChartSvg(std::span<const double> train_actual,
                                             std::span<const double> test_actual,
                                             std::span<const double> forecast,
                                             std::string_view title = "Forecast vs. actual");

// Escapes &, <, >, ", ' and drops characters XML 1.0 forbids (C0 controls but tab, LF, CR).
std::string XmlEscape(std::string_view text);

}  // namespace tsml::train::eval

#endif  // TSML_TRAIN_EVAL_CHARTS_H_
