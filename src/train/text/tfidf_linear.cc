#include "train/text/tfidf_linear.h"

#include <linear.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "common/status_macros.h"
#include "common/strings.h"
#include "train/bundle.h"
#include "train/text/tokenizer.h"

namespace tsml::train::text {
namespace {

using common::StrCat;

constexpr int kCharNgramMin = 3;
constexpr int kCharNgramMax = 5;

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

void SilenceLiblinear() {
  static std::once_flag once;
  std::call_once(once, [] { set_print_string_function([](const char*) {}); });
}

double Sigmoid(double s) {
  return s >= 0 ? 1 / (1 + std::exp(-s)) : std::exp(s) / (1 + std::exp(s));
}

}  // namespace

std::string FloatsToBase64(const std::vector<float>& values) {
  return EncodeArray(values.data(), values.size());
}

absl::StatusOr<std::vector<float>> FloatsFromBase64(const Json& value, size_t expected_size) {
  if (!value.is_string()) return absl::InvalidArgumentError("weights must be a base64 string");
  ASSIGN_OR_RETURN(std::vector<float> out,
                   DecodeArray<float>(value.get_ref<const std::string&>(), expected_size));
  for (float f : out) {
    if (!std::isfinite(f)) return absl::InvalidArgumentError("non-finite weight in model");
  }
  return out;
}

// ---- TfidfVectorizer ----------------------------------------------------------------------------

namespace {

constexpr uint64_t kCharSalt = 0x63686172ULL;  // keeps character n-gram keys apart

uint64_t WordKey(const uint64_t* token_hashes, int n) {
  uint64_t key = Mix(static_cast<uint64_t>(n));
  for (int j = 0; j < n; ++j) key = Mix(key ^ token_hashes[j]);
  return key;
}

uint64_t CharKey(std::string_view gram) { return Mix(Fnv1a(gram) ^ kCharSalt); }

}  // namespace

template <typename Fn>
void TfidfVectorizer::ForEachKey(const Tokens& tokens, Fn&& fn) const {
  const int n_tokens = static_cast<int>(tokens.size());
  std::vector<uint64_t> hashes(tokens.size());
  for (int i = 0; i < n_tokens; ++i) hashes[i] = Fnv1a(tokens[i]);
  for (int n = 1; n <= options_.ngram_max; ++n) {
    for (int i = 0; i + n <= n_tokens; ++i) fn(WordKey(&hashes[i], n), TermSpec{i, n, 0, 0});
  }
  if (!options_.char_ngrams) return;
  std::string word;
  for (int i = 0; i < n_tokens; ++i) {
    word = StrCat("<", tokens[i], ">");
    const std::vector<size_t> offsets = CodePointOffsets(word);
    const int chars = static_cast<int>(offsets.size()) - 1;
    for (int n = kCharNgramMin; n <= kCharNgramMax; ++n) {
      for (int s = 0; s + n <= chars; ++s) {
        const size_t start = offsets[s];
        const size_t len = offsets[s + n] - offsets[s];
        fn(CharKey(std::string_view(word).substr(start, len)),
           TermSpec{i, 0, static_cast<int32_t>(start), static_cast<int32_t>(len)});
      }
    }
  }
}

std::string TfidfVectorizer::Spell(const Tokens& tokens, const TermSpec& spec) {
  if (spec.n == 0) {
    return StrCat("c:", StrCat("<", tokens[spec.pos], ">").substr(spec.start, spec.len));
  }
  std::string term = tokens[spec.pos];
  for (int j = 1; j < spec.n; ++j) {
    term += ' ';
    term += tokens[spec.pos + j];
  }
  return term;
}

uint64_t TfidfVectorizer::KeyOfTerm(const std::string& term) {
  if (common::StartsWith(term, "c:")) return CharKey(std::string_view(term).substr(2));
  std::vector<uint64_t> hashes;
  size_t begin = 0;
  for (;;) {
    const size_t space = term.find(' ', begin);
    hashes.push_back(Fnv1a(std::string_view(term).substr(begin, space - begin)));
    if (space == std::string::npos) break;
    begin = space + 1;
  }
  return WordKey(hashes.data(), static_cast<int>(hashes.size()));
}

int32_t TfidfVectorizer::IndexOf(uint64_t key) const {
  if (options_.hashed) return static_cast<int32_t>(key % idf_.size());
  auto it = index_.find(key);
  return it == index_.end() ? -1 : it->second;
}

absl::StatusOr<TfidfVectorizer> TfidfVectorizer::Fit(const std::vector<Tokens>& docs,
                                                     std::span<const int> rows,
                                                     const TfidfOptions& options,
                                                     const FitHooks& hooks) {
  TfidfVectorizer v;
  v.options_ = options;
  v.options_.ngram_max = std::clamp(options.ngram_max, 1, 3);
  v.options_.max_features = std::max(1, options.max_features);
  const double n_docs = static_cast<double>(rows.size());
  auto idf_of = [&](int64_t df) {
    return static_cast<float>(std::log((1 + n_docs) / (1 + static_cast<double>(df))) + 1);
  };
  // Per term (vocabulary) or bucket (hashed): document frequency, the last document counted,
  // and the first occurrence, to spell the term out at the end.
  struct Count {
    int64_t df = 0;
    int32_t last = -1;
    int32_t doc = -1;
    TermSpec spec;
  };
  auto count = [](Count& c, int32_t d, int32_t doc, const TermSpec& spec) {
    if (c.last == d) return;
    if (c.df == 0) {
      c.doc = doc;
      c.spec = spec;
    }
    c.last = d;
    ++c.df;
  };
  auto scan = [&](auto&& on_term) -> absl::Status {
    for (size_t d = 0; d < rows.size(); ++d) {
      if (d % 1024 == 0) {
        if (hooks.Cancelled()) return absl::CancelledError("training was cancelled");
        hooks.Progress(static_cast<double>(d) / rows.size());
      }
      v.ForEachKey(docs[rows[d]], [&](uint64_t key, const TermSpec& spec) {
        on_term(key, static_cast<int32_t>(d), rows[d], spec);
      });
    }
    return absl::OkStatus();
  };

  if (v.options_.hashed) {
    const size_t buckets = static_cast<size_t>(v.options_.max_features);
    std::vector<Count> counts(buckets);
    RETURN_IF_ERROR(scan([&](uint64_t key, int32_t d, int32_t doc, const TermSpec& spec) {
      count(counts[key % buckets], d, doc, spec);
    }));
    v.terms_.resize(buckets);
    v.idf_.resize(buckets);
    for (size_t b = 0; b < buckets; ++b) {
      v.idf_[b] = idf_of(counts[b].df);
      if (counts[b].doc >= 0) v.terms_[b] = Spell(docs[counts[b].doc], counts[b].spec);
    }
    hooks.Progress(1);
    return v;
  }

  std::unordered_map<uint64_t, Count> counts;
  counts.reserve(rows.size() * 4);
  RETURN_IF_ERROR(scan([&](uint64_t key, int32_t d, int32_t doc, const TermSpec& spec) {
    count(counts[key], d, doc, spec);
  }));
  std::vector<std::pair<int64_t, uint64_t>> kept;  // (df, key)
  for (const auto& [key, c] : counts) {
    if (c.df >= options.min_df) kept.emplace_back(c.df, key);
  }
  if (kept.empty()) {
    return absl::FailedPreconditionError(StrCat("no word occurs in at least minDf=", options.min_df,
                                                " of the ", rows.size(),
                                                " training texts: lower hyperparameters.minDf"));
  }
  std::vector<std::pair<std::string, int64_t>> terms;  // (term, df)
  terms.reserve(std::min(kept.size(), static_cast<size_t>(v.options_.max_features)));
  if (kept.size() > static_cast<size_t>(v.options_.max_features)) {
    // The most frequent; ties by spelling so the choice does not depend on hash order.
    std::sort(kept.begin(), kept.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    const int64_t cutoff_df = kept[v.options_.max_features - 1].first;
    std::vector<std::pair<std::string, int64_t>> boundary;
    for (const auto& [df, key] : kept) {
      const Count& c = counts[key];
      if (df > cutoff_df) {
        terms.emplace_back(Spell(docs[c.doc], c.spec), df);
      } else if (df == cutoff_df) {
        boundary.emplace_back(Spell(docs[c.doc], c.spec), df);
      }
    }
    std::sort(boundary.begin(), boundary.end());
    for (auto& b : boundary) {
      if (terms.size() >= static_cast<size_t>(v.options_.max_features)) break;
      terms.push_back(std::move(b));
    }
  } else {
    for (const auto& [df, key] : kept) {
      const Count& c = counts[key];
      terms.emplace_back(Spell(docs[c.doc], c.spec), df);
    }
  }
  counts.clear();
  std::sort(terms.begin(), terms.end());
  v.terms_.reserve(terms.size());
  v.idf_.reserve(terms.size());
  for (auto& [term, df] : terms) {
    v.index_.emplace(KeyOfTerm(term), static_cast<int32_t>(v.terms_.size()));
    v.terms_.push_back(std::move(term));
    v.idf_.push_back(idf_of(df));
  }
  hooks.Progress(1);
  return v;
}

SparseRow TfidfVectorizer::Transform(const Tokens& tokens) const {
  std::vector<int32_t> idx;
  ForEachKey(tokens, [&](uint64_t key, const TermSpec&) {
    const int32_t i = IndexOf(key);
    if (i >= 0) idx.push_back(i);
  });
  std::sort(idx.begin(), idx.end());
  SparseRow row;
  double norm = 0;
  for (size_t s = 0; s < idx.size();) {
    size_t e = s;
    while (e < idx.size() && idx[e] == idx[s]) ++e;
    const double value = (1 + std::log(static_cast<double>(e - s))) * idf_[idx[s]];
    row.emplace_back(idx[s], static_cast<float>(value));
    norm += value * value;
    s = e;
  }
  if (norm > 0) {
    const double inv = 1 / std::sqrt(norm);
    for (auto& [i, value] : row) value = static_cast<float>(value * inv);
  }
  return row;
}

std::string TfidfVectorizer::FeatureName(int i) const {
  if (i >= 0 && static_cast<size_t>(i) < terms_.size() && !terms_[i].empty()) return terms_[i];
  return StrCat("#", i);
}

Json TfidfVectorizer::ToJson() const {
  Json j = {{"kind", options_.hashed ? "hashed" : "vocabulary"},
            {"ngramMax", options_.ngram_max},
            {"charNgrams", options_.char_ngrams},
            {"minDf", options_.min_df},
            {"numFeatures", idf_.size()},
            {"idf", FloatsToBase64(idf_)}};
  if (!options_.hashed) j["terms"] = terms_;
  return j;
}

absl::StatusOr<TfidfVectorizer> TfidfVectorizer::FromJson(const Json& json) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("invalid text vectorizer in model: ", why));
  };
  if (!json.is_object()) return bad("not an object");
  TfidfVectorizer v;
  const Json kind = json.value("kind", Json());
  if (kind != "hashed" && kind != "vocabulary") return bad("unknown kind");
  v.options_.hashed = kind == "hashed";
  const Json ngram = json.value("ngramMax", Json());
  const Json n = json.value("numFeatures", Json());
  if (!ngram.is_number_integer() || ngram.get<int>() < 1 || ngram.get<int>() > 3) {
    return bad("ngramMax");
  }
  if (!n.is_number_unsigned() || n.get<uint64_t>() < 1 || n.get<uint64_t>() > (1u << 26)) {
    return bad("numFeatures");
  }
  v.options_.ngram_max = ngram.get<int>();
  v.options_.char_ngrams = json.value("charNgrams", false);
  v.options_.min_df = json.value("minDf", 1);
  const size_t features = n.get<size_t>();
  v.options_.max_features = static_cast<int>(features);
  absl::StatusOr<std::vector<float>> idf = FloatsFromBase64(json.value("idf", Json()), features);
  if (!idf.ok()) return bad(std::string(idf.status().message()));
  v.idf_ = *std::move(idf);
  if (!v.options_.hashed) {
    const Json& terms = json.value("terms", Json());
    if (!terms.is_array() || terms.size() != features) return bad("terms");
    v.terms_.reserve(features);
    for (const Json& t : terms) {
      if (!t.is_string()) return bad("terms");
      v.index_.emplace(KeyOfTerm(t.get<std::string>()), static_cast<int32_t>(v.terms_.size()));
      v.terms_.push_back(t.get<std::string>());
    }
    if (v.index_.size() != features) return bad("duplicate terms");
  }
  return v;
}

// ---- LinearModel --------------------------------------------------------------------------------

absl::StatusOr<LinearModel> LinearModel::Train(const std::vector<SparseRow>& x,
                                               std::span<const int> y, int num_classes,
                                               int num_features, const LogRegOptions& options,
                                               const FitHooks& hooks) {
  SilenceLiblinear();
  LinearModel m;
  m.num_classes_ = num_classes;
  m.num_features_ = num_features;
  const int rows = m.rows();
  m.w_.assign(static_cast<size_t>(rows) * (num_features + 1), 0.0f);
  const size_t n = x.size();
  if (n == 0 || y.size() != n || num_classes < 2) {
    return absl::InvalidArgumentError("logistic regression needs rows of at least two classes");
  }

  // liblinear's problem: 1-based sorted indices, a bias node (index num_features + 1, value 1),
  // each row terminated by {-1, 0}.
  std::vector<size_t> offsets(n + 1, 0);
  for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + x[i].size() + 2;
  std::vector<feature_node> nodes(offsets[n]);
  std::vector<feature_node*> row_ptrs(n);
  for (size_t i = 0; i < n; ++i) {
    feature_node* out = nodes.data() + offsets[i];
    row_ptrs[i] = out;
    for (const auto& [j, value] : x[i]) *out++ = feature_node{j + 1, value};
    *out++ = feature_node{num_features + 1, 1.0};
    *out = feature_node{-1, 0.0};
  }
  std::vector<double> labels(n);
  problem prob{};
  prob.l = static_cast<int>(n);
  prob.n = num_features + 1;
  prob.y = labels.data();
  prob.x = row_ptrs.data();
  prob.bias = 1.0;
  parameter param{};
  param.solver_type = L2R_LR;
  param.eps = options.eps;
  param.C = options.c;
  param.nr_weight = 0;
  param.weight_label = nullptr;
  param.weight = nullptr;
  param.p = 0.1;
  param.init_sol = nullptr;
  if (const char* error = check_parameter(&prob, &param); error != nullptr) {
    return absl::InvalidArgumentError(StrCat("liblinear: ", error));
  }

  for (int r = 0; r < rows; ++r) {
    if (hooks.Cancelled()) return absl::CancelledError("training was cancelled");
    const int positive_class = num_classes == 2 ? 1 : r;
    int64_t positives = 0;
    for (size_t i = 0; i < n; ++i) {
      labels[i] = y[i] == positive_class ? 1.0 : -1.0;
      positives += y[i] == positive_class;
    }
    float* w = m.w_.data() + static_cast<size_t>(r) * (num_features + 1);
    if (positives == 0 || positives == static_cast<int64_t>(n)) {
      // One-sided: no solve; the bias carries the (smoothed) class rate.
      w[num_features] = static_cast<float>(
          std::log((positives + 0.5) / (static_cast<double>(n - positives) + 0.5)));
    } else {
      ::model* fitted = nullptr;
      try {
        fitted = ::train(&prob, &param);
      } catch (const std::exception& e) {
        return absl::ResourceExhaustedError(StrCat("liblinear failed: ", e.what()));
      }
      if (fitted == nullptr) return absl::InternalError("liblinear returned no model");
      // For +1/-1 labels liblinear orders label[0] = +1; flip if it ever does not.
      const double sign = fitted->label[0] == 1 ? 1.0 : -1.0;
      for (int j = 0; j <= num_features; ++j) w[j] = static_cast<float>(sign * fitted->w[j]);
      free_and_destroy_model(&fitted);
    }
    hooks.Progress(static_cast<double>(r + 1) / rows);
  }
  for (float f : m.w_) {
    if (!std::isfinite(f)) return absl::InternalError("liblinear produced non-finite weights");
  }
  return m;
}

void LinearModel::PredictProba(const SparseRow& x, double* out) const {
  const int r_count = rows();
  double total = 0;
  for (int r = 0; r < r_count; ++r) {
    const float* w = w_.data() + static_cast<size_t>(r) * (num_features_ + 1);
    double s = w[num_features_];
    for (const auto& [j, value] : x) s += static_cast<double>(w[j]) * value;
    const double p = Sigmoid(s);
    if (num_classes_ == 2) {
      out[0] = 1 - p;
      out[1] = p;
      return;
    }
    out[r] = p;
    total += p;
  }
  for (int r = 0; r < r_count; ++r) {
    out[r] = total > 0 ? out[r] / total : 1.0 / num_classes_;
  }
}

Json LinearModel::ToJson() const {
  return {{"numClasses", num_classes_},
          {"numFeatures", num_features_},
          {"weights", FloatsToBase64(w_)}};
}

absl::StatusOr<LinearModel> LinearModel::FromJson(const Json& json) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("invalid linear model: ", why));
  };
  if (!json.is_object()) return bad("not an object");
  const Json k = json.value("numClasses", Json());
  const Json f = json.value("numFeatures", Json());
  if (!k.is_number_unsigned() || k.get<int>() < 2 || k.get<int>() > 1000) return bad("numClasses");
  if (!f.is_number_unsigned() || f.get<uint64_t>() > (1u << 26)) return bad("numFeatures");
  LinearModel m;
  m.num_classes_ = k.get<int>();
  m.num_features_ = f.get<int>();
  absl::StatusOr<std::vector<float>> w = FloatsFromBase64(
      json.value("weights", Json()), static_cast<size_t>(m.rows()) * (m.num_features_ + 1));
  if (!w.ok()) return bad(std::string(w.status().message()));
  m.w_ = *std::move(w);
  return m;
}

// ---- TfidfLogReg --------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TfidfLogReg>> TfidfLogReg::Fit(
    const std::vector<Tokens>& docs, std::span<const int> rows, std::span<const int> y,
    int num_classes, const TfidfOptions& tfidf, const LogRegOptions& logreg,
    const FitHooks& hooks) {
  // Rough split of the time: vocabulary 30 %, vectors 20 %, solves 50 %.
  FitHooks vocab_hooks{hooks.cancelled, [&](double f) { hooks.Progress(0.3 * f); }};
  absl::StatusOr<TfidfVectorizer> vectorizer = TfidfVectorizer::Fit(docs, rows, tfidf, vocab_hooks);
  if (!vectorizer.ok()) return vectorizer.status();
  std::vector<SparseRow> x;
  x.reserve(rows.size());
  std::vector<int> labels;
  labels.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i % 1024 == 0) {
      if (hooks.Cancelled()) return absl::CancelledError("training was cancelled");
      hooks.Progress(0.3 + 0.2 * static_cast<double>(i) / rows.size());
    }
    x.push_back(vectorizer->Transform(docs[rows[i]]));
    labels.push_back(y[rows[i]]);
  }
  FitHooks solve_hooks{hooks.cancelled, [&](double f) { hooks.Progress(0.5 + 0.5 * f); }};
  absl::StatusOr<LinearModel> model =
      LinearModel::Train(x, labels, num_classes, vectorizer->num_features(), logreg, solve_hooks);
  if (!model.ok()) return model.status();
  return std::make_unique<TfidfLogReg>(*std::move(vectorizer), *std::move(model));
}

absl::StatusOr<std::unique_ptr<TfidfLogReg>> TfidfLogReg::FromJson(const Json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("invalid tfidf_logreg model");
  absl::StatusOr<TfidfVectorizer> v = TfidfVectorizer::FromJson(json.value("vectorizer", Json()));
  if (!v.ok()) return v.status();
  absl::StatusOr<LinearModel> m = LinearModel::FromJson(json.value("linear", Json()));
  if (!m.ok()) return m.status();
  if (m->num_features() != v->num_features()) {
    return absl::InvalidArgumentError("model and vectorizer disagree on the feature count");
  }
  return std::make_unique<TfidfLogReg>(*std::move(v), *std::move(m));
}

void TfidfLogReg::PredictProba(const Tokens& tokens, double* out) const {
  model_.PredictProba(vectorizer_.Transform(tokens), out);
}

absl::StatusOr<Json> TfidfLogReg::ToJson(const std::string& /*scratch_dir*/) const {
  return Json{{"algorithm", algorithm()},
              {"vectorizer", vectorizer_.ToJson()},
              {"linear", model_.ToJson()}};
}

std::vector<Json> TfidfLogReg::TopFeatures(int per_class_and_sign) const {
  std::vector<Json> out;
  const int nf = model_.num_features();
  const int k = model_.num_classes();
  for (int r = 0; r < model_.rows(); ++r) {
    const int cls = k == 2 ? 1 : r;
    std::vector<std::pair<float, int>> ranked;
    ranked.reserve(nf);
    for (int j = 0; j < nf; ++j) {
      const float w = model_.weight(r, j);
      if (w != 0) ranked.emplace_back(w, j);
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const int m = static_cast<int>(ranked.size());
    for (int i = 0; i < std::min(per_class_and_sign, m) && ranked[i].first > 0; ++i) {
      out.push_back({{"feature", vectorizer_.FeatureName(ranked[i].second)},
                     {"class", cls},
                     {"weight", ranked[i].first}});
    }
    for (int i = 0; i < std::min(per_class_and_sign, m) && ranked[m - 1 - i].first < 0; ++i) {
      out.push_back({{"feature", vectorizer_.FeatureName(ranked[m - 1 - i].second)},
                     {"class", cls},
                     {"weight", ranked[m - 1 - i].first}});
    }
  }
  return out;
}

}  // namespace tsml::train::text
