// Implicit-feedback matrix factorization (Hu, Koren & Volinsky, "Collaborative Filtering for
// Implicit Feedback Datasets", ICDM 2008) solved by alternating least squares with a few
// conjugate-gradient steps per row instead of an exact solve (Takács, Pilászy & Tikk,
// "Applications of the conjugate gradient method for implicit feedback collaborative
// filtering", RecSys 2011), on Eigen.
//
// Every observed (user, item) pair with weight w > 0 has preference 1 and confidence
// c = 1 + alpha · w; unobserved pairs have preference 0 and confidence 1. An epoch solves every
// user row against the item factors, then every item row against the user factors, each with
// `cg_steps` CG iterations started from the previous epoch's row.
//
// Thread safety: the functions are reentrant; each call uses up to `threads` std::threads of
// its own and joins them before returning.
#ifndef TSML_TRAIN_RECOMMEND_ALS_H_
#define TSML_TRAIN_RECOMMEND_ALS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "common/cancellation.h"

namespace tsml::train::recommend {

struct Triplet {
  int32_t row = 0;
  int32_t col = 0;
  float value = 0;
};

// A sparse matrix in compressed rows (CSR): row r's entries are index/value[ptr[r], ptr[r+1]),
// columns ascending. Used for user × item weights and their transpose.
struct SparseMatrix {
  int32_t rows = 0;
  int32_t cols = 0;
  std::vector<int64_t> ptr = {0};  // rows + 1
  std::vector<int32_t> index;
  std::vector<float> value;

  int64_t nnz() const { return static_cast<int64_t>(index.size()); }
  int64_t RowSize(int32_t r) const { return ptr[r + 1] - ptr[r]; }
  bool Contains(int32_t r, int32_t c) const;  // binary search

  // Duplicated (row, col) triplets are summed; entries outside the shape are a programmer error.
  static SparseMatrix FromTriplets(int32_t rows, int32_t cols, std::vector<Triplet> triplets);
  SparseMatrix Transpose() const;
};

// One row per user (item); row-major so that a row is contiguous.
using FactorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct AlsFactors {
  FactorMatrix users;  // num_users × factors
  FactorMatrix items;  // num_items × factors
};

struct AlsOptions {
  int factors = 32;
  float regularization = 0.01f;
  float alpha = 10;  // confidence = 1 + alpha · weight
  int epochs = 15;
  int cg_steps = 3;
  int threads = 1;
  uint64_t seed = 42;
  float init_scale = 0.01f;  // random factors are N(0, 1) · init_scale
};

struct AlsHooks {
  // Checked between chunks of rows inside every epoch: Cancelled within milliseconds.
  const common::CancellationToken* cancel = nullptr;
  // After each epoch (1-based) with the current factors; return false to stop training.
  std::function<bool(int epoch, const AlsFactors& factors)> on_epoch;
};

// Random N(0, init_scale²) factors for `users` × `items` (deterministic in options.seed).
AlsFactors RandomFactors(int32_t users, int32_t items, const AlsOptions& options);

// Trains from random factors. `user_items` holds the weights (entries with weight <= 0 are
// ignored). Errors: InvalidArgument (bad options or an empty matrix), Cancelled,
// ResourceExhausted (allocation failed), Internal (a thread could not be started).
absl::StatusOr<AlsFactors> TrainAls(const SparseMatrix& user_items, const AlsOptions& options,
                                    const AlsHooks& hooks = {});

// Trains starting from `init`, whose shapes must be user_items.rows × factors and
// user_items.cols × factors (InvalidArgument otherwise).
absl::StatusOr<AlsFactors> TrainAlsFrom(const SparseMatrix& user_items, AlsFactors init,
                                        const AlsOptions& options, const AlsHooks& hooks = {});

// Factors of a previous model, with the ids of their rows.
struct NamedFactors {
  std::vector<std::string> user_ids;
  std::vector<std::string> item_ids;
  AlsFactors factors;
};

// Warm start for incremental retraining: initial factors for the new id lists, rows copied
// by id from `previous` and random (as RandomFactors) for ids it does not know.
// InvalidArgument when previous.factors' width differs from options.factors or its id lists do
// not match its row counts.
absl::StatusOr<AlsFactors> WarmStartFactors(const NamedFactors& previous,
                                            const std::vector<std::string>& user_ids,
                                            const std::vector<std::string>& item_ids,
                                            const AlsOptions& options);

// WarmStartFactors followed by TrainAlsFrom (rows of user_items follow `user_ids`, columns
// `item_ids`). A few epochs usually suffice when most ids are known.
absl::StatusOr<AlsFactors> TrainAlsWarm(const SparseMatrix& user_items,
                                        const std::vector<std::string>& user_ids,
                                        const std::vector<std::string>& item_ids,
                                        const NamedFactors& previous, const AlsOptions& options,
                                        const AlsHooks& hooks = {});

// Runs fn(begin, end) over [0, n) in chunks of `chunk` on up to `threads` threads (the calling
// thread among them), stopping early once `cancel` is set. Exceptions inside fn become
// Internal/ResourceExhausted; returns Cancelled when the token was set.
absl::Status ParallelFor(int64_t n, int threads, int64_t chunk,
                         const common::CancellationToken* cancel,
                         const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace tsml::train::recommend

#endif  // TSML_TRAIN_RECOMMEND_ALS_H_
