#include "train/recommend/als.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <new>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "common/strings.h"

namespace tsml::train::recommend {
namespace {

using common::StrCat;
using Vector = Eigen::VectorXf;
using RowMap = Eigen::Map<Eigen::VectorXf>;
using ConstRowMap = Eigen::Map<const Eigen::VectorXf>;

// splitmix64: a small, portable generator so that a seed gives the same factors everywhere.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal() {                                                           // Box–Muller
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

void FillRandom(FactorMatrix& m, int64_t first_row, uint64_t seed, float scale) {
  for (int64_t r = first_row; r < m.rows(); ++r) {
    Random rng(seed ^ (0x5851f42d4c957f2dULL * static_cast<uint64_t>(r + 1)));
    for (int64_t c = 0; c < m.cols(); ++c) m(r, c) = static_cast<float>(rng.Normal()) * scale;
  }
}

absl::Status CheckOptions(const AlsOptions& o) {
  if (o.factors < 1 || o.factors > 4096)
    return absl::InvalidArgumentError("ALS: factors must be 1–4096");
  if (!(o.regularization >= 0) || !std::isfinite(o.regularization)) {
    return absl::InvalidArgumentError("ALS: regularization must be a finite number >= 0");
  }
  if (!(o.alpha >= 0) || !std::isfinite(o.alpha)) {
    return absl::InvalidArgumentError("ALS: alpha must be a finite number >= 0");
  }
  if (o.epochs < 1) return absl::InvalidArgumentError("ALS: epochs must be >= 1");
  if (o.cg_steps < 1) return absl::InvalidArgumentError("ALS: cgSteps must be >= 1");
  return absl::OkStatus();
}

// One half-epoch: re-solves every row of `x` (rows of `m`) against the fixed factors `y`.
// For row u with observed columns i (confidence c_i):
//   (YᵀY + λI + Σ_i (c_i − 1) y_i y_iᵀ) x_u = Σ_i c_i y_i
// approximately, by `cg_steps` conjugate-gradient iterations from the current x_u. Rows
// without entries become zero (their exact solution).
absl::Status SolveSide(const SparseMatrix& m, const FactorMatrix& y, FactorMatrix& x,
                       const AlsOptions& o, const common::CancellationToken* cancel) {
  const int f = static_cast<int>(y.cols());
  Eigen::MatrixXf yty = y.transpose() * y;
  yty.diagonal().array() += o.regularization;
  return ParallelFor(m.rows, o.threads, 64, cancel, [&](int64_t begin, int64_t end) {
    Vector r(f), p(f), ap(f);
    for (int64_t u = begin; u < end; ++u) {
      RowMap xu(x.row(u).data(), f);
      const int64_t lo = m.ptr[u], hi = m.ptr[u + 1];
      if (lo == hi) {
        xu.setZero();
        continue;
      }
      // r = b − A x
      r.noalias() = -(yty * xu);
      for (int64_t e = lo; e < hi; ++e) {
        const float w = m.value[e];
        if (!(w > 0)) continue;
        const float c = 1.0f + o.alpha * w;
        ConstRowMap yi(y.row(m.index[e]).data(), f);
        r += (c - (c - 1.0f) * yi.dot(xu)) * yi;
      }
      p = r;
      float rs_old = r.squaredNorm();
      for (int step = 0; step < o.cg_steps; ++step) {
        if (rs_old < 1e-20f) break;
        ap.noalias() = yty * p;
        for (int64_t e = lo; e < hi; ++e) {
          const float w = m.value[e];
          if (!(w > 0)) continue;
          const float c = 1.0f + o.alpha * w;
          ConstRowMap yi(y.row(m.index[e]).data(), f);
          ap += ((c - 1.0f) * yi.dot(p)) * yi;
        }
        const float pap = p.dot(ap);
        if (!(pap > 0)) break;
        const float step_size = rs_old / pap;
        xu += step_size * p;
        r -= step_size * ap;
        const float rs_new = r.squaredNorm();
        p = r + (rs_new / rs_old) * p;
        rs_old = rs_new;
      }
    }
  });
}

}  // namespace

bool SparseMatrix::Contains(int32_t r, int32_t c) const {
  if (r < 0 || r >= rows) return false;
  auto begin = index.begin() + ptr[r], end = index.begin() + ptr[r + 1];
  return std::binary_search(begin, end, c);
}

SparseMatrix SparseMatrix::FromTriplets(int32_t rows, int32_t cols, std::vector<Triplet> t) {
  std::sort(t.begin(), t.end(), [](const Triplet& a, const Triplet& b) {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
  });
  SparseMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.ptr.assign(static_cast<size_t>(rows) + 1, 0);
  m.index.reserve(t.size());
  m.value.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0 && t[i].row == t[i - 1].row && t[i].col == t[i - 1].col) {
      m.value.back() += t[i].value;
      continue;
    }
    m.index.push_back(t[i].col);
    m.value.push_back(t[i].value);
    ++m.ptr[static_cast<size_t>(t[i].row) + 1];
  }
  for (int32_t r = 0; r < rows; ++r) m.ptr[r + 1] += m.ptr[r];
  return m;
}

SparseMatrix SparseMatrix::Transpose() const {
  SparseMatrix t;
  t.rows = cols;
  t.cols = rows;
  t.ptr.assign(static_cast<size_t>(cols) + 1, 0);
  for (int32_t c : index) ++t.ptr[static_cast<size_t>(c) + 1];
  for (int32_t c = 0; c < cols; ++c) t.ptr[c + 1] += t.ptr[c];
  t.index.resize(index.size());
  t.value.resize(value.size());
  std::vector<int64_t> next(t.ptr.begin(), t.ptr.end() - 1);
  for (int32_t r = 0; r < rows; ++r) {  // rows ascending → each transposed row stays sorted
    for (int64_t e = ptr[r]; e < ptr[r + 1]; ++e) {
      const int64_t dst = next[index[e]]++;
      t.index[dst] = r;
      t.value[dst] = value[e];
    }
  }
  return t;
}

absl::Status ParallelFor(int64_t n, int threads, int64_t chunk,
                         const common::CancellationToken* cancel,
                         const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n <= 0) return absl::OkStatus();
  chunk = std::max<int64_t>(1, chunk);
  const int64_t chunks = (n + chunk - 1) / chunk;
  const int workers = static_cast<int>(std::clamp<int64_t>(threads, 1, chunks));
  std::atomic<int64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  absl::Status error;
  auto record = [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(s);
    stop = true;
  };
  auto work = [&] {
    try {
      while (!stop.load(std::memory_order_relaxed)) {
        if (cancel != nullptr && cancel->cancelled()) {
          stop = true;
          return;
        }
        const int64_t c = next.fetch_add(1);
        if (c >= chunks) return;
        fn(c * chunk, std::min(n, (c + 1) * chunk));
      }
    } catch (const std::bad_alloc&) {
      record(absl::ResourceExhaustedError("out of memory while training the recommender"));
    } catch (const std::exception& e) {
      record(absl::InternalError(StrCat("recommender worker failed: ", e.what())));
    }
  };
  std::vector<std::thread> pool;
  try {
    for (int i = 1; i < workers; ++i) pool.emplace_back(work);
  } catch (const std::exception& e) {
    record(absl::InternalError(StrCat("could not start a training thread: ", e.what())));
  }
  work();
  for (std::thread& t : pool) t.join();
  if (!error.ok()) return error;
  if (cancel != nullptr && cancel->cancelled())
    return absl::CancelledError("training was cancelled");
  return absl::OkStatus();
}

AlsFactors RandomFactors(int32_t users, int32_t items, const AlsOptions& options) {
  AlsFactors f;
  f.users.resize(users, options.factors);
  f.items.resize(items, options.factors);
  FillRandom(f.users, 0, options.seed * 2 + 1, options.init_scale);
  FillRandom(f.items, 0, options.seed * 2 + 2, options.init_scale);
  return f;
}

absl::StatusOr<AlsFactors> TrainAls(const SparseMatrix& user_items, const AlsOptions& options,
                                    const AlsHooks& hooks) {
  if (auto s = CheckOptions(options); !s.ok()) return s;
  try {
    return TrainAlsFrom(user_items, RandomFactors(user_items.rows, user_items.cols, options),
                        options, hooks);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory allocating the ALS factors");
  }
}

absl::StatusOr<AlsFactors> TrainAlsFrom(const SparseMatrix& user_items, AlsFactors f,
                                        const AlsOptions& options, const AlsHooks& hooks) {
  if (auto s = CheckOptions(options); !s.ok()) return s;
  if (user_items.rows == 0 || user_items.cols == 0 || user_items.nnz() == 0) {
    return absl::InvalidArgumentError("ALS: there are no interactions to train on");
  }
  if (f.users.rows() != user_items.rows || f.items.rows() != user_items.cols ||
      f.users.cols() != options.factors || f.items.cols() != options.factors) {
    return absl::InvalidArgumentError(
        StrCat("ALS: initial factors are ", f.users.rows(), "×", f.users.cols(), " and ",
               f.items.rows(), "×", f.items.cols(), ", expected ", user_items.rows, "×",
               options.factors, " and ", user_items.cols, "×", options.factors));
  }
  try {
    const SparseMatrix item_users = user_items.Transpose();
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      if (auto s = SolveSide(user_items, f.items, f.users, options, hooks.cancel); !s.ok())
        return s;
      if (auto s = SolveSide(item_users, f.users, f.items, options, hooks.cancel); !s.ok())
        return s;
      if (!f.users.allFinite() || !f.items.allFinite()) {
        return absl::InternalError(
            "ALS diverged (non-finite factors); lower alpha or raise regularization");
      }
      if (hooks.on_epoch && !hooks.on_epoch(epoch, f)) break;
      if (hooks.cancel != nullptr && hooks.cancel->cancelled()) {
        return absl::CancelledError("training was cancelled");
      }
    }
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while training ALS");
  }
  return f;
}

absl::StatusOr<AlsFactors> WarmStartFactors(const NamedFactors& previous,
                                            const std::vector<std::string>& user_ids,
                                            const std::vector<std::string>& item_ids,
                                            const AlsOptions& options) {
  const AlsFactors& p = previous.factors;
  if (p.users.cols() != options.factors || p.items.cols() != options.factors) {
    return absl::InvalidArgumentError(StrCat("warm start: the previous model has ", p.users.cols(),
                                             " factors, this one ", options.factors));
  }
  if (static_cast<size_t>(p.users.rows()) != previous.user_ids.size() ||
      static_cast<size_t>(p.items.rows()) != previous.item_ids.size()) {
    return absl::InvalidArgumentError("warm start: previous ids do not match its factor rows");
  }
  AlsFactors f = RandomFactors(static_cast<int32_t>(user_ids.size()),
                               static_cast<int32_t>(item_ids.size()), options);
  auto copy_rows = [](const std::vector<std::string>& old_ids, const FactorMatrix& old_rows,
                      const std::vector<std::string>& new_ids, FactorMatrix& rows) {
    std::unordered_map<std::string, int64_t> where;
    where.reserve(old_ids.size());
    for (size_t i = 0; i < old_ids.size(); ++i) where.emplace(old_ids[i], static_cast<int64_t>(i));
    for (size_t i = 0; i < new_ids.size(); ++i) {
      auto it = where.find(new_ids[i]);
      if (it != where.end()) rows.row(static_cast<int64_t>(i)) = old_rows.row(it->second);
    }
  };
  copy_rows(previous.user_ids, p.users, user_ids, f.users);
  copy_rows(previous.item_ids, p.items, item_ids, f.items);
  return f;
}

absl::StatusOr<AlsFactors> TrainAlsWarm(const SparseMatrix& user_items,
                                        const std::vector<std::string>& user_ids,
                                        const std::vector<std::string>& item_ids,
                                        const NamedFactors& previous, const AlsOptions& options,
                                        const AlsHooks& hooks) {
  if (static_cast<size_t>(user_items.rows) != user_ids.size() ||
      static_cast<size_t>(user_items.cols) != item_ids.size()) {
    return absl::InvalidArgumentError("warm start: id lists do not match the matrix shape");
  }
  auto init = WarmStartFactors(previous, user_ids, item_ids, options);
  if (!init.ok()) return init.status();
  return TrainAlsFrom(user_items, std::move(*init), options, hooks);
}

}  // namespace tsml::train::recommend
