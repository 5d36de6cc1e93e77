#include "train/recommend/item_knn.h"

#include <algorithm>
#include <cmath>
#include <new>

namespace tsml::train::recommend {

absl::StatusOr<ItemNeighbors> BuildItemNeighbors(const SparseMatrix& user_items,
                                                 const ItemKnnOptions& options,
                                                 const common::CancellationToken* cancel) {
  if (options.neighbors < 1) return absl::InvalidArgumentError("item_knn: neighbors must be >= 1");
  if (user_items.cols == 0 || user_items.nnz() == 0) {
    return absl::InvalidArgumentError("item_knn: there are no interactions to train on");
  }
  try {
    const SparseMatrix item_users = user_items.Transpose();
    const int32_t n_items = user_items.cols;
    std::vector<float> norm(static_cast<size_t>(n_items), 0);
    for (int32_t i = 0; i < n_items; ++i) {
      double s = 0;
      for (int64_t e = item_users.ptr[i]; e < item_users.ptr[i + 1]; ++e) {
        s += static_cast<double>(item_users.value[e]) * item_users.value[e];
      }
      norm[i] = static_cast<float>(std::sqrt(s));
    }
    const size_t keep = static_cast<size_t>(std::min<int64_t>(options.neighbors, n_items - 1));
    // Per item: its neighbours, filled by the workers, concatenated afterwards.
    std::vector<std::vector<std::pair<float, int32_t>>> lists(static_cast<size_t>(n_items));
    auto status =
        ParallelFor(n_items, options.threads, 16, cancel, [&](int64_t begin, int64_t end) {
          std::vector<float> dot(static_cast<size_t>(n_items), 0);
          std::vector<char> mark(static_cast<size_t>(n_items), 0);
          std::vector<int32_t> touched;
          for (int64_t i = begin; i < end; ++i) {
            touched.clear();
            for (int64_t e = item_users.ptr[i]; e < item_users.ptr[i + 1]; ++e) {
              const int32_t u = item_users.index[e];
              const float wu = item_users.value[e];
              for (int64_t g = user_items.ptr[u]; g < user_items.ptr[u + 1]; ++g) {
                const int32_t j = user_items.index[g];
                if (j == i) continue;
                if (!mark[j]) {
                  mark[j] = 1;
                  touched.push_back(j);
                }
                dot[j] += wu * user_items.value[g];
              }
            }
            std::vector<std::pair<float, int32_t>>& out = lists[i];
            out.reserve(touched.size());
            for (int32_t j : touched) {
              const float denom = norm[i] * norm[j];
              if (denom > 0 && dot[j] > 0) out.emplace_back(dot[j] / denom, j);
              dot[j] = 0;
              mark[j] = 0;
            }
            auto better = [](const auto& a, const auto& b) {
              return a.first != b.first ? a.first > b.first : a.second < b.second;
            };
            if (out.size() > keep) {
              std::nth_element(out.begin(), out.begin() + static_cast<int64_t>(keep), out.end(),
                               better);
              out.resize(keep);
            }
            std::sort(out.begin(), out.end(), better);
            out.shrink_to_fit();
          }
        });
    if (!status.ok()) return status;
    ItemNeighbors nb;
    nb.items = n_items;
    nb.ptr.assign(static_cast<size_t>(n_items) + 1, 0);
    for (int32_t i = 0; i < n_items; ++i) {
      nb.ptr[i + 1] = nb.ptr[i] + static_cast<int64_t>(lists[i].size());
    }
    nb.index.reserve(static_cast<size_t>(nb.ptr.back()));
    nb.similarity.reserve(static_cast<size_t>(nb.ptr.back()));
    for (auto& list : lists) {
      for (const auto& [sim, j] : list) {
        nb.index.push_back(j);
        nb.similarity.push_back(sim);
      }
      std::vector<std::pair<float, int32_t>>().swap(list);
    }
    return nb;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory building the item-kNN model");
  }
}

void AddNeighborScores(const ItemNeighbors& nb, const int32_t* items, const float* weights,
                       int64_t n, float* scores) {
  for (int64_t k = 0; k < n; ++k) {
    const int32_t i = items[k];
    if (i < 0 || i >= nb.items) continue;
    const float w = weights[k];
    for (int64_t e = nb.ptr[i]; e < nb.ptr[i + 1]; ++e) scores[nb.index[e]] += w * nb.similarity[e];
  }
}

}  // namespace tsml::train::recommend
