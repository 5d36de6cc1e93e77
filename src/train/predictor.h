// A loaded model that answers predictions (the serving path). Implementations are immutable
// after loading and thread-safe; Predict allocates little and batches rows into one library
// call.
#ifndef TSML_TRAIN_PREDICTOR_H_
#define TSML_TRAIN_PREDICTOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/json_util.h"

namespace tsml::train {

class Predictor {
 public:
  virtual ~Predictor() = default;
  // `instances` is a JSON array of objects of raw input columns (missing columns are missing
  // values). `options` carries per-request settings (e.g. {"k": 10} for recommendations).
  // Returns a JSON array with one prediction object per instance:
  //   classification → {"label", "probabilities": {label: p}, "probability" (binary)}
  //   regression → {"value"}; recommendation → {"userId", "items": [{"itemId","score"}]}
  //   forecast → {"group", "forecast": [{"period","value"}]}; sentiment → as classification.
  // InvalidArgument (naming the instance and column) for values of a wrong type.
  virtual absl::StatusOr<Json> Predict(const Json& instances, const Json& options) const = 0;
  // Feature/column names the model reads from an instance (for docs and drift).
  virtual std::vector<std::string> InputColumns() const = 0;
};

// Model type → loader of a saved artifact file (whose checksum the caller verified).
class PredictorRegistry {
 public:
  using Loader = std::function<absl::StatusOr<std::unique_ptr<Predictor>>(const std::string&)>;
  void Register(std::string model_type, Loader loader) {
    loaders_[std::move(model_type)] = std::move(loader);
  }
  absl::StatusOr<std::unique_ptr<Predictor>> Load(const std::string& model_type,
                                                  const std::string& path) const {
    auto it = loaders_.find(model_type);
    if (it == loaders_.end()) {
      return absl::UnimplementedError("no predictor for model type " + model_type);
    }
    return it->second(path);
  }

 private:
  std::map<std::string, Loader> loaders_;
};

}  // namespace tsml::train

#endif  // TSML_TRAIN_PREDICTOR_H_
