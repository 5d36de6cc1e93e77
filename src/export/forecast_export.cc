// Demand forecasters: XGBoost's one-step model over the lag features, or Holt-Winters'
// per-series state and forecast equation.
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <span>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/onnx_writer.h"
#include "export/prepare.h"
#include "export/tabular_ir.h"
#include "train/forecast/forecast_trainer.h"
#include "train/forecast/holt_winters.h"
#include "train/forecast/lag_features.h"
#include "train/forecast/series.h"

namespace tsml::exporting {
namespace {

using common::StrCat;

// A Holt-Winters forecaster: each series' fitted state (level, damped trend, seasonal
// indexes) and the forecast equation; a series' name in, its forecast out.
absl::Status PrepareHoltWinters(const ExportInput& in, const Json& bundle,
                                const train::Predictor& predictor, int horizon, int max_horizon,
                                const std::string& model_dir,
                                const common::CancellationToken* cancel, Prepared* out) {
  namespace fc = train::forecast;
  RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format, "holt_winters"));
  HoltWintersArrays hw;
  hw.max_horizon = max_horizon;
  Json series_meta = Json::array();
  std::string frequency;
  try {
    const Json& m = bundle.at("model");
    frequency = bundle.at("transform").at("frequency").get<std::string>();
    hw.total = m.at("totalIndex").get<int>();
    for (const Json& e : m.at("series")) {
      hw.names.push_back(e.at("name").get<std::string>());
      std::optional<fc::HoltWintersModel> model;
      if (e.contains("holtWinters")) {
        ASSIGN_OR_RETURN(model, fc::HoltWintersModel::FromJson(e["holtWinters"]));
      }
      hw.level.push_back(model ? model->level : 0);
      hw.slope.push_back(model && model->trend ? model->slope : 0);
      hw.phi.push_back(model ? model->params.phi : 1);
      hw.lower.push_back(model && model->non_negative ? 0
                                                      : -std::numeric_limits<double>::infinity());
      hw.n.push_back(model ? model->n : 0);
      hw.season.push_back(model ? model->season : 0);
      hw.seasonal.push_back(model ? model->seasonal : std::vector<double>());
      Json state = model ? model->ToJson() : Json(nullptr);
      series_meta.push_back(
          {{"name", static_cast<int>(series_meta.size()) == hw.total ? Json(nullptr)
                                                                     : Json(hw.names.back())},
           {"holtWinters", state}});
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("demand_forecast artifact: ", e.what()));
  }
  if (hw.names.empty() || hw.total < 0 || hw.total >= static_cast<int>(hw.names.size())) {
    return absl::InvalidArgumentError("demand_forecast artifact: no series");
  }

  // Every series (the total first), repeated up to the sample size, at the trained horizon.
  const auto t_sample = Clock::now();
  std::vector<int> order = {hw.total};
  for (int i = 0; i < static_cast<int>(hw.names.size()); ++i) {
    if (i != hw.total) order.push_back(i);
  }
  Json rows = Json::array(), instances = Json::array();
  for (int r = 0; r < kSampleRows; ++r) {
    const int i = order[static_cast<size_t>(r) % order.size()];
    rows.push_back({{"group", i == hw.total ? Json(nullptr) : Json(hw.names[i])}});
    instances.push_back(i == hw.total ? Json::object() : Json{{"group", hw.names[i]}});
  }
  ASSIGN_OR_RETURN(Json forecasts, predictor.Predict(instances, {{"horizon", horizon}}));
  Json expected = Json::array();
  try {
    for (const Json& f : forecasts) {
      Json values = Json::array();
      for (const Json& p : f.at("forecast")) values.push_back(p.at("value"));
      expected.push_back(std::move(values));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected forecast shape: ", e.what()));
  }
  out->sample = {{"kind", "forecast_state"},
                 {"rows", rows},
                 {"horizon", horizon},
                 {"expectedScores", expected},
                 {"scoreKind", "forecast values, one per period"},
                 {"task", "forecast"}};
  out->sample_seconds = Since(t_sample);

  Json metadata = BaseMetadata(in, "forecast", bundle);
  metadata.update(
      Json{{"frequency", frequency},
           {"horizon", horizon},
           {"maxHorizon", max_horizon},
           {"estimator",
            {{"type", "holt_winters"},
             {"form", "additive damped trend, additive seasonality"},
             {"forecast",
              "value(k) = level + slope * sum_{j=1..k} phi^j + seasonal[(n + k - 1) mod season], "
              "at least 0 when the series was never negative"}}},
           {"series", series_meta}});
  AddJobMetadata(in, &metadata);

  const Json props = {{"modelType", in.model_type},
                      {"task", "forecast"},
                      {"tsmlVersion", TsmlVersion()},
                      {"algorithm", "holt_winters"}};
  auto write_onnx = [&](Json* layout) {
    return WriteHoltWintersOnnx(hw, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    Json spec = {{"kind", "holt_winters"},
                 {"names", hw.names},
                 {"total", hw.total},
                 {"level", hw.level},
                 {"slope", hw.slope},
                 {"phi", hw.phi},
                 {"nonNegative",
                  [&] {
                    Json flags = Json::array();
                    for (double l : hw.lower) flags.push_back(l == 0);
                    return flags;
                  }()},
                 {"n", hw.n},
                 {"season", hw.season},
                 {"seasonal", hw.seasonal},
                 {"maxHorizon", max_horizon}};
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_onnx, converter_spec, cancel, &metadata, out));
  out->readme = StrCat(
      "# tsml export: demand_forecast (Holt-Winters) as ", in.format, "\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Inputs `group` (string [N]: a series' name, \"\" "
            "for the total)\nand `horizon` (int64 [1], 1..maxHorizon). Output `forecast` "
            "(float64 [N, horizon]); NaN for a\ngroup the model does not know.\n"
          : "`torch.jit.load(\"model.pt\")(groups, horizon)` with a list of series names (\"\" "
            "for the total) and an\nint; returns float64 [N, horizon] (NaN for an unknown "
            "group).\n",
      "\nEach series' fitted state is in metadata.json `series`. sample.json holds series and "
      "the\nforecasts the tsml service made for them; the export was verified against them.\n");
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace

// A demand forecaster (XGBoost on lag features): the one-step model over the encoded lag,
// rolling and calendar features, checked on the service's own recursive forecasts.
absl::Status PrepareForecast(const ExportInput& in, const Json& bundle,
                             const std::string& model_dir, const common::CancellationToken* cancel,
                             Prepared* out) {
  namespace fc = train::forecast;
  ASSIGN_OR_RETURN(std::unique_ptr<fc::ForecastPredictor> fp,
                   fc::ForecastPredictor::FromBundle(bundle));
  if (fp->algorithm() == "holt_winters") {
    return PrepareHoltWinters(in, bundle, *fp, fp->horizon(), fp->max_horizon(), model_dir, cancel,
                              out);
  }
  if (fp->algorithm() != "xgboost") {
    return absl::InvalidArgumentError(
        StrCat("forecasters of algorithm '", fp->algorithm(), "' cannot be exported"));
  }
  fc::LagConfig config;
  std::string booster_json;
  struct Series {
    std::string name;
    int code = 0;
    int64_t next_period = 0;
    double floor = 1;
    bool non_negative = true;
    std::vector<double> history;
  };
  std::vector<Series> series;
  size_t total = 0;
  std::string frequency;
  try {
    const Json& t = bundle.at("transform");
    const Json& m = bundle.at("model");
    frequency = t.at("frequency").get<std::string>();
    ASSIGN_OR_RETURN(config, fc::LagConfig::FromJson(t.at("lagConfig")));
    booster_json = m.at("boosterJson").get<std::string>();
    total = m.at("totalIndex").get<size_t>();
    for (const Json& e : m.at("series")) {
      series.push_back({e.at("name").get<std::string>(), e.at("code").get<int>(),
                        e.at("nextPeriod").get<int64_t>(), e.at("scaleFloor").get<double>(),
                        e.value("nonNegative", true), e.at("history").get<std::vector<double>>()});
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("demand_forecast artifact: ", e.what()));
  }
  if (series.empty() || total >= series.size()) {
    return absl::InvalidArgumentError("demand_forecast artifact: no series");
  }
  ASSIGN_OR_RETURN(Json booster_doc, common::ParseJson(booster_json, 4096));
  ASSIGN_OR_RETURN(TreeEnsemble trees, ParseXgboostJson(booster_doc));
  const std::vector<std::string> names = config.FeatureNames();

  // The service's forecasts for the total and the first groups, then the features each step
  // of its recursion saw (the history extended by the forecasts before it).
  const auto t_sample = Clock::now();
  const int h = fp->horizon();
  std::vector<size_t> chosen = {total};
  for (size_t i = 0; i < series.size() && chosen.size() < 4; ++i) {
    if (i != total) chosen.push_back(i);
  }
  Json instances = Json::array();
  for (size_t i : chosen) {
    instances.push_back(i == total ? Json::object() : Json{{"group", series[i].name}});
  }
  ASSIGN_OR_RETURN(Json forecasts, fp->Predict(instances, {{"horizon", h}}));
  struct Step {
    size_t series;
    int step;
    std::string period;
    double value;
  };
  std::vector<Step> steps;
  try {
    for (size_t k = 0; k < chosen.size(); ++k) {
      const Json& f = forecasts.at(k).at("forecast");
      for (int s = 0; s < h; ++s) {
        steps.push_back({chosen[k], s, f.at(s).at("period").get<std::string>(),
                         f.at(s).at("value").get<double>()});
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected forecast shape: ", e.what()));
  }
  // Every step's features (the recursion needs them all); the sample keeps kSampleRows spread
  // over the series and steps.
  const size_t cols = config.NumFeatures();
  const size_t lookback = static_cast<size_t>(config.Lookback());
  std::vector<std::vector<float>> x(steps.size(), std::vector<float>(cols));
  std::vector<double> scales(steps.size());
  {
    std::map<size_t, std::vector<double>> history;
    for (size_t r = 0; r < steps.size(); ++r) {
      const Series& s = series[steps[r].series];
      std::vector<double>& hist = history.try_emplace(steps[r].series, s.history).first->second;
      std::span<const double> view(hist);
      if (view.size() > lookback) view = view.subspan(view.size() - lookback);
      scales[r] = fc::ComputeFeatures(config, view, s.next_period + steps[r].step, s.code, s.floor,
                                      x[r].data());
      hist.push_back(steps[r].value);
    }
  }
  Json rows = Json::array(), encoded = Json::array(), expected = Json::array(),
       scale_json = Json::array(), non_negative = Json::array();
  const size_t keep = std::min<size_t>(kSampleRows, steps.size());
  for (size_t k = 0; k < keep; ++k) {
    const size_t r = k * steps.size() / keep;
    const Step& st = steps[r];
    rows.push_back({{"group", st.series == total ? Json(nullptr) : Json(series[st.series].name)},
                    {"period", st.period},
                    {"step", st.step + 1}});
    Json e = Json::array();
    for (float v : x[r]) e.push_back(std::isnan(v) ? Json(nullptr) : Json(v));
    encoded.push_back(std::move(e));
    expected.push_back(st.value);
    scale_json.push_back(scales[r]);
    non_negative.push_back(series[st.series].non_negative);
  }
  out->sample = {{"kind", "forecast"},
                 {"rows", rows},
                 {"encodedInputs", encoded},
                 {"encodedFeatureNames", names},
                 {"scales", scale_json},
                 {"nonNegative", non_negative},
                 {"expectedScores", expected},
                 {"scoreKind", "value = ratio * scale (at least 0 where nonNegative)"},
                 {"task", "forecast"}};
  out->sample_seconds = Since(t_sample);

  Json series_meta = Json::array();
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const size_t from = s.history.size() > lookback ? s.history.size() - lookback : 0;
    series_meta.push_back(
        {{"name", i == total ? Json(nullptr) : Json(s.name)},
         {"groupCode", s.code},
         {"nextPeriod", fc::PeriodLabel(*fc::ParseFrequency(frequency), s.next_period)},
         {"scaleFloor", s.floor},
         {"nonNegative", s.non_negative},
         {"recentHistory", std::vector<double>(s.history.begin() + from, s.history.end())}});
  }
  Json metadata = BaseMetadata(in, "forecast", bundle);
  metadata.update(Json{
      {"frequency", frequency},
      {"horizon", h},
      {"lagConfig", config.ToJson()},
      {"encodedFeatureNames", names},
      {"series", series_meta},
      {"estimator",
       {{"type", "xgboost"},
        {"objective", trees.objective},
        {"trees", trees.trees.size()},
        {"baseMargin", trees.base_margin}}},
      {"recursion",
       "value(t) = ratio(features(t)) * scale(t), clamped at 0 for nonNegative series; "
       "features(t) and scale(t) from the series' values before t (the forecasts of earlier "
       "steps included): lags, rolling means and standard deviations, log1p of the local level, "
       "the calendar of t, the trend ratio and the group code, each divided by the local level "
       "(the mean of the last scaleWindow values, at least scaleFloor)"}});
  AddJobMetadata(in, &metadata);

  const Json props = {{"modelType", in.model_type},
                      {"task", "forecast"},
                      {"tsmlVersion", TsmlVersion()},
                      {"encodedFeatureNames", names}};
  auto write_onnx = [&](Json* layout) {
    return WriteForecastOnnx(trees, names, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    Json spec = {{"kind", "forecast"},          {"task", "regression"}, {"estimator", "xgboost"},
                 {"trees", TreesToJson(trees)}, {"numFeatures", cols},  {"numOutputs", 1},
                 {"featureNames", names}};
    if (in.format == "sklearn") {  // XGBRegressor loads the booster itself
      const std::string booster_path = in.work_dir + "/booster.json";
      RETURN_IF_ERROR(common::WriteFileAtomic(booster_path, booster_json));
      spec["boosterPath"] = booster_path;
    }
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_onnx, converter_spec, cancel, &metadata, out));
  out->readme = StrCat(
      "# tsml export: demand_forecast (XGBoost one-step forecaster) as ", in.format, "\n\n",
      "The model maps one period's encoded features (float32 [N, F], NaN = missing; names in\n"
      "metadata.json `encodedFeatureNames`) to `ratio`, the period's value over the series' local\n"
      "level: value = ratio * scale, clamped at 0 for series that were never negative. A forecast\n"
      "of h periods runs it h times, feeding each forecast back into the history the next step's\n"
      "lags and rolling statistics are computed from (metadata.json `recursion`, `lagConfig` and\n"
      "each series' `recentHistory`).\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime: input `features`, output `ratio` [N, 1].\n"
      : in.format == "sklearn"
          ? "`joblib.load(\"model.joblib\").predict(features)` gives the ratios.\n"
      : in.format == "pytorch"
          ? "`torch.jit.load(\"model.pt\")(features)` gives the ratios [N].\n"
          : "`tf.saved_model.load(\"saved_model\").signatures[\"serving_default\"]"
            "(features=...)[\"scores\"]`\ngives the ratios [N].\n",
      "\nsample.json holds feature rows of the service's own recursive forecasts "
      "(`encodedInputs`,\n"
      "`scales`, `nonNegative`) and the values it forecast (`expectedScores`); the export was\n"
      "verified against them.\n");
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace tsml::exporting
