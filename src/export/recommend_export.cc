// Recommendation models (ALS): user ids in, the top-k unseen items and their scores out.
#include <algorithm>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/onnx_writer.h"
#include "export/prepare.h"
#include "train/recommend/recommend_model.h"

namespace tsml::exporting {

using common::StrCat;

// A recommendation model (ALS): user ids in, the top-k unseen items and their scores out.
absl::Status PrepareRecommendation(const ExportInput& in, const Json& bundle,
                                   const std::string& model_dir,
                                   const common::CancellationToken* cancel, Prepared* out) {
  ASSIGN_OR_RETURN(std::unique_ptr<train::recommend::RecommendPredictor> rec,
                   train::recommend::RecommendPredictor::FromBundle(bundle));
  if (rec->model().algorithm() != train::recommend::Algorithm::kAls) {
    RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format, "item_knn"));
    return absl::InvalidArgumentError("only ALS recommendation models can be exported");
  }
  const auto t_sample = Clock::now();
  int k = 10;
  if (const auto h = bundle.find("hyperparameters"); h != bundle.end() && h->is_object()) {
    if (auto it = h->find("k"); it != h->end() && it->is_number_integer()) {
      k = std::clamp(it->get<int>(), 1, 100);
    }
  }
  k = std::min<int>(k, rec->model().num_items());
  // Known users spread over the index, one unknown (cold start).
  const auto& users = rec->user_ids();
  Json rows = Json::array();
  const int known = std::min<int>(kSampleRows - 1, static_cast<int>(users.size()));
  for (int i = 0; i < known; ++i) {
    rows.push_back({{"userId", users[static_cast<size_t>(i) * users.size() / known]}});
  }
  rows.push_back({{"userId", "__tsml_unknown_user__"}});
  ASSIGN_OR_RETURN(Json predictions, rec->Predict(rows, {{"k", k}}));
  Json expected = Json::array(), items = Json::array();
  try {
    for (const Json& p : predictions) {
      Json s = Json::array(), ids = Json::array();
      for (const Json& item : p.at("items")) {
        s.push_back(item.at("score"));
        ids.push_back(item.at("itemId"));
      }
      expected.push_back(std::move(s));
      items.push_back(std::move(ids));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  out->sample = {{"rows", rows},
                 {"k", k},
                 {"expectedScores", expected},
                 {"expectedItems", items},
                 {"scoreKind", "topKItemScores"},
                 {"task", "ranking"}};
  out->sample_seconds = Since(t_sample);

  const auto& factors = rec->model().factors();
  Json metadata = BaseMetadata(in, "ranking", bundle);
  metadata.update(Json{{"algorithm", "als"},
                       {"users", rec->model().num_users()},
                       {"items", rec->model().num_items()},
                       {"factors", factors.items.cols()},
                       {"k", k},
                       {"features", Json::array({{{"name", "userId"}, {"type", "categorical"}}})},
                       {"scoring",
                        "score(user, item) = user_factors[user] · item_factors[item]; the "
                        "user's training items are excluded; unknown users get item "
                        "popularity (share of users)"}});
  AddJobMetadata(in, &metadata);

  RecommenderArrays arrays;
  arrays.user_ids = &rec->user_ids();
  arrays.item_ids = &rec->item_ids();
  arrays.factors = static_cast<int>(factors.items.cols());
  arrays.user_factors.assign(factors.users.data(), factors.users.data() + factors.users.size());
  arrays.item_factors.assign(factors.items.data(), factors.items.data() + factors.items.size());
  arrays.popularity = rec->model().popularity();
  const auto& seen = rec->model().seen();
  arrays.seen_ptr = seen.ptr;
  arrays.seen_index = seen.index;
  const Json props = {
      {"modelType", in.model_type}, {"tsmlVersion", TsmlVersion()}, {"algorithm", "als"}};
  auto write_onnx = [&](Json* layout) {
    return WriteRecommendOnnx(arrays, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    Json spec = {{"kind", "recommendation"},           {"userIds", *arrays.user_ids},
                 {"itemIds", *arrays.item_ids},        {"factors", arrays.factors},
                 {"userFactors", arrays.user_factors}, {"itemFactors", arrays.item_factors},
                 {"popularity", arrays.popularity},    {"seenPtr", arrays.seen_ptr},
                 {"seenIndex", arrays.seen_index}};
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_onnx, converter_spec, cancel, &metadata, out));
  out->readme = StrCat(
      "# tsml export: recommendation (ALS) as ", in.format, "\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Inputs: `user_id` (string [N]) and `k` (int64 "
            "[1]).\nOutputs: `item_ids` (string [N, k]) and `scores` (float32 [N, k]), best "
            "first.\n"
          : "`torch.jit.load(\"model.pt\")(user_ids, k)` with a list of user id strings and an "
            "int;\nreturns (item ids [N][k], scores float32 [N, k]), best first.\n",
      "\nItems the user interacted with in training are excluded; an unknown user gets the most\n"
      "popular items (score: share of users). sample.json holds user ids and the items and\n"
      "scores the tsml service returned for them; the export was verified against them.\n");
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace tsml::exporting
