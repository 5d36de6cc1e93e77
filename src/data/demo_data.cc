#include "data/demo_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/bulk_insert.h"
#include "data/catalog.h"

namespace tsml::data {
namespace {

using common::StrCat;
using store::SqlValue;
constexpr int64_t kDay = 86400000;
constexpr int kSpanDays = 730;  // 2023-01-01 .. 2024-12-31
constexpr int kLatent = 6;

// splitmix64: the same numbers on every platform (std distributions are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  int Int(int n) { return static_cast<int>(Uniform() * n); }
  bool Bernoulli(double p) { return Uniform() < p; }
  double Normal() {
    const double u1 = std::max(Uniform(), 1e-300);
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double Exponential(double mean) { return -mean * std::log(std::max(1e-300, 1.0 - Uniform())); }
  int Poisson(double lambda) {
    if (lambda > 30) return std::max(0, static_cast<int>(std::lround(lambda + std::sqrt(lambda) * Normal())));
    const double l = std::exp(-lambda);
    int k = 0;
    double p = 1;
    do {
      ++k;
      p *= Uniform();
    } while (p > l);
    return k - 1;
  }
  // Index drawn from cumulative weights.
  size_t Pick(const std::vector<double>& cum) {
    const double r = Uniform() * cum.back();
    return std::min<size_t>(std::upper_bound(cum.begin(), cum.end(), r) - cum.begin(),
                            cum.size() - 1);
  }
  template <typename T, size_t N>
  const T& Choice(const T (&arr)[N]) {
    return arr[Int(static_cast<int>(N))];
  }

 private:
  uint64_t s_;
};

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::vector<double> Cumulative(const std::vector<double>& w) {
  std::vector<double> cum(w.size());
  double acc = 0;
  for (size_t i = 0; i < w.size(); ++i) cum[i] = acc += w[i];
  return cum;
}

struct Destination {
  const char* name;
  const char* country;
  const char* kind;  // beach, city, mountain, culture
};
constexpr Destination kDestinations[] = {
    {"Paris", "FR", "city"},         {"Nice", "FR", "beach"},        {"Chamonix", "FR", "mountain"},
    {"Rome", "IT", "culture"},       {"Venice", "IT", "culture"},    {"Amalfi", "IT", "beach"},
    {"Barcelona", "ES", "city"},     {"Mallorca", "ES", "beach"},    {"Seville", "ES", "culture"},
    {"Lisbon", "PT", "city"},        {"Algarve", "PT", "beach"},     {"London", "GB", "city"},
    {"Edinburgh", "GB", "culture"},  {"Berlin", "DE", "city"},       {"Munich", "DE", "city"},
    {"Zermatt", "CH", "mountain"},   {"Vienna", "AT", "culture"},    {"Innsbruck", "AT", "mountain"},
    {"Prague", "CZ", "culture"},     {"Amsterdam", "NL", "city"},    {"Santorini", "GR", "beach"},
    {"Athens", "GR", "culture"},     {"New York", "US", "city"},     {"Miami", "US", "beach"},
    {"Denver", "US", "mountain"},    {"Cancun", "MX", "beach"},      {"Kyoto", "JP", "culture"},
    {"Tokyo", "JP", "city"},         {"Bali", "ID", "beach"},        {"Cape Town", "ZA", "city"},
};
constexpr int kNumDestinations = sizeof(kDestinations) / sizeof(kDestinations[0]);

constexpr const char* kCountries[] = {"US", "GB", "FR", "DE", "ES", "IT", "NL", "CA", "AU", "JP"};
constexpr double kCountryWeights[] = {25, 15, 12, 12, 8, 8, 5, 6, 5, 4};
constexpr const char* kFirstNames[] = {"Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia",
                                       "Leo", "Sofia", "Hugo", "Chloe", "Jonas", "Lena", "Marco",
                                       "Yuki", "Aiko", "Sam", "Nora", "Omar", "Ines"};
constexpr const char* kLastNames[] = {"Smith", "Martin", "Muller", "Rossi", "Garcia", "Brown",
                                      "Dubois", "Schmidt", "Tanaka", "Silva", "Jones", "Bernard",
                                      "Weber", "Russo", "Lopez", "Wilson", "Moreau", "Fischer"};
constexpr const char* kTiers[] = {"none", "silver", "gold", "platinum"};
constexpr const char* kSignupChannels[] = {"organic", "paid_search", "social", "referral", "email"};
constexpr const char* kDevices[] = {"mobile", "desktop", "tablet"};

// Review vocabulary (docs/demo-data.md).
constexpr const char* kAspects[] = {"the room", "the staff", "the location", "the breakfast",
                                    "the view", "the pool", "the price", "the guide", "the bed",
                                    "the check-in", "the food", "the wifi"};
constexpr const char* kPositive[] = {"great", "excellent", "friendly", "spotless", "comfortable",
                                     "delicious", "stunning", "helpful", "amazing", "perfect",
                                     "lovely", "fantastic"};
constexpr const char* kNegative[] = {"dirty", "rude", "noisy", "overpriced", "terrible",
                                     "disappointing", "cramped", "slow", "awful", "broken",
                                     "smelly", "horrible"};
constexpr const char* kOpenPos[] = {"Loved our stay.", "What a trip!", "Highly recommended.",
                                    "We had a wonderful time."};
constexpr const char* kOpenNeg[] = {"What a letdown.", "Avoid this place.", "Very unhappy.",
                                    "Worst trip in years."};
constexpr const char* kOpenMid[] = {"It was okay.", "Mixed feelings.", "Average overall.",
                                    "Some good, some bad."};
constexpr const char* kClosePos[] = {"Would definitely come back!", "Cannot wait to return.",
                                     "Five stars from us."};
constexpr const char* kCloseNeg[] = {"Never again.", "Would not recommend.", "Save your money."};
constexpr const char* kCloseMid[] = {"Might come back.", "Fine for a night.", "Nothing special."};

std::string AddTypos(Rng& rng, const std::string& text) {
  std::string out = text;
  for (size_t i = 1; i + 2 < out.size(); ++i) {
    if (std::isalpha(static_cast<unsigned char>(out[i])) &&
        std::isalpha(static_cast<unsigned char>(out[i + 1])) && rng.Bernoulli(0.006)) {
      if (rng.Bernoulli(0.5)) {
        std::swap(out[i], out[i + 1]);
      } else {
        out.erase(i, 1);
      }
    }
  }
  return out;
}

std::string ReviewText(Rng& rng, int rating) {
  static constexpr double kPosShare[] = {0.08, 0.2, 0.5, 0.8, 0.93};
  const double p_pos = kPosShare[rating - 1];
  std::string text = rating >= 4 ? rng.Choice(kOpenPos) : rating <= 2 ? rng.Choice(kOpenNeg)
                                                                       : rng.Choice(kOpenMid);
  if (rng.Bernoulli(0.3)) text.clear();
  const int sentences = 1 + rng.Int(3);
  for (int s = 0; s < sentences; ++s) {
    const bool positive = rng.Bernoulli(p_pos);
    std::string aspect = rng.Choice(kAspects);
    std::string sentence;
    // A quarter of the sentences say it with a negation of the opposite word.
    if (rng.Bernoulli(0.25)) {
      sentence = StrCat(aspect, positive ? (rng.Bernoulli(0.5) ? " was not " : " was never ")
                                         : (rng.Bernoulli(0.5) ? " was not " : " wasn't "),
                        positive ? rng.Choice(kNegative) : rng.Choice(kPositive), ".");
    } else {
      sentence = StrCat(aspect, rng.Bernoulli(0.5) ? " was " : " was really ",
                        positive ? rng.Choice(kPositive) : rng.Choice(kNegative), ".");
    }
    sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
    if (!text.empty()) text += ' ';
    text += sentence;
  }
  text += ' ';
  text += rating >= 4 ? rng.Choice(kClosePos) : rating <= 2 ? rng.Choice(kCloseNeg)
                                                             : rng.Choice(kCloseMid);
  return AddTypos(rng, text);
}

struct Item {
  std::string id;
  std::string type;  // destination, hotel, activity
  int destination;
  double popularity;
  double price;  // per night / per ticket
  int stars;
  float latent[kLatent];
};

struct User {
  std::string id;
  int64_t signup;
  int country;
  int age;
  int tier;
  int channel;
  int device;
  bool newsletter;
  double engagement;
  double recency;
  int sessions;
  double session_minutes;
  double spend;
  int tickets;
  bool churned;
  bool converted;
  double activity;  // share of events, bookings, reviews
  float latent[kLatent];
};

// Daily booking demand: trend, weekly and yearly seasonality, holidays (docs/demo-data.md).
bool IsHoliday(int64_t day_index, int64_t start_days) {
  const common::CivilDate date = common::CivilFromDays(start_days + day_index);
  const unsigned m = date.month, d = date.day;
  return (m == 1 && d == 1) || (m == 2 && d == 14) || (m == 7 && d == 4) ||
         (m == 12 && (d >= 24 && d <= 26)) || (m == 12 && d == 31) || (m == 11 && d >= 24 && d <= 27) ||
         (m == 4 && d >= 7 && d <= 10) || (m == 8 && d == 15);
}

double DemandIntensity(int day_index, int64_t start_days) {
  const int dow = static_cast<int>((start_days + day_index + 4) % 7);  // 0 = Sunday
  static constexpr double kWeekly[] = {0.85, 1.15, 1.05, 1.0, 1.0, 0.95, 0.7};
  const double trend = 1.0 + 0.5 * day_index / kSpanDays;
  const double yearly = 1.0 + 0.3 * std::sin(2 * M_PI * (day_index % 365 - 80) / 365.0);
  const double holiday = IsHoliday(day_index, start_days) ? 1.8 : 1.0;
  return trend * kWeekly[dow] * yearly * holiday;
}

struct Sink {
  SourceSchema schema;
  std::vector<std::string> columns;
};

absl::Status Create(store::SqlConnection& conn, store::SqlBackend backend, const std::string& source,
                    const std::vector<ColumnInfo>& cols, std::vector<std::string>* names) {
  SourceSchema schema{source, cols};
  RETURN_IF_ERROR(CreateSourceTable(conn, backend, schema));
  names->assign({"_row"});
  for (const ColumnInfo& c : cols) names->push_back(c.name);
  return absl::OkStatus();
}

}  // namespace

Json DemoReport::ToJson() const {
  Json r = Json::object();
  for (const auto& [k, v] : rows) r[k] = v;
  return {{"rows", r}, {"seconds", seconds}};
}

absl::StatusOr<DemoReport> SeedDemo(store::Database& db, const DemoOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (options.events < 1000 || options.events > 50'000'000) {
    return absl::InvalidArgumentError("events must be between 1000 and 50000000");
  }
  using LT = LogicalType;
  Rng rng(options.seed);
  const int64_t start_days = common::DaysFromCivil(2023, 1, 1);
  const int64_t start_ms = start_days * kDay;
  const int64_t now_ms = (start_days + kSpanDays) * kDay;
  const int64_t n_users = std::max<int64_t>(300, options.events / 20);
  const int64_t n_bookings = std::max<int64_t>(500, options.events / 5);
  const int64_t n_reviews = std::max<int64_t>(400, options.events / 16);
  const int64_t n_trips = std::max<int64_t>(300, options.events / 10);
  DemoReport report;

  // ---- items ----
  std::vector<Item> items;
  auto add_item = [&](std::string id, std::string type, int dest, double price, int stars) {
    Item it{std::move(id), std::move(type), dest, rng.Normal(), price, stars, {}};
    for (float& v : it.latent) v = static_cast<float>(rng.Normal());
    // Items of one destination share part of their taste profile.
    if (it.type != "destination" && dest >= 0 && static_cast<size_t>(dest) < items.size()) {
      for (int k = 0; k < kLatent; ++k) it.latent[k] = 0.6f * items[dest].latent[k] + 0.8f * it.latent[k];
    }
    items.push_back(std::move(it));
  };
  for (int d = 0; d < kNumDestinations; ++d) add_item(StrCat("dest_", d + 1), "destination", d, 0, 0);
  for (int h = 0; h < 6 * kNumDestinations; ++h) {
    const int stars = 2 + rng.Int(4);
    add_item(StrCat("hotel_", h + 1), "hotel", h % kNumDestinations,
             std::round(40 * stars * std::exp(0.25 * rng.Normal())), stars);
  }
  for (int a = 0; a < 3 * kNumDestinations; ++a) {
    add_item(StrCat("activity_", a + 1), "activity", a % kNumDestinations,
             std::round(15 + rng.Exponential(40)), 0);
  }
  const size_t n_items = items.size();
  std::vector<size_t> hotels;
  for (size_t i = 0; i < n_items; ++i) {
    if (items[i].type == "hotel") hotels.push_back(i);
  }

  // ---- users ----
  const std::vector<double> country_cum =
      Cumulative(std::vector<double>(std::begin(kCountryWeights), std::end(kCountryWeights)));
  std::vector<User> users(n_users);
  for (int64_t u = 0; u < n_users; ++u) {
    User& x = users[u];
    x.id = StrCat("u", 100000 + u);
    x.signup = start_ms + static_cast<int64_t>(rng.Uniform() * (kSpanDays - 30) * kDay);
    x.country = static_cast<int>(rng.Pick(country_cum));
    x.age = std::clamp(static_cast<int>(std::lround(38 + 12 * rng.Normal())), 18, 80);
    x.engagement = rng.Normal();
    const double frustration = rng.Normal();
    const double tier_score = x.engagement + 0.8 * rng.Normal();
    x.tier = tier_score < 0.3 ? 0 : tier_score < 1.0 ? 1 : tier_score < 1.7 ? 2 : 3;
    x.channel = rng.Int(5);
    x.device = rng.Bernoulli(0.55) ? 0 : rng.Bernoulli(0.8) ? 1 : 2;
    x.newsletter = rng.Bernoulli(0.4);
    x.recency = std::clamp(std::round(std::exp(2.6 - 0.8 * x.engagement + 0.6 * rng.Normal())), 0.0, 365.0);
    x.sessions = rng.Poisson(std::exp(1.4 + 0.55 * x.engagement));
    x.session_minutes = std::round(10 * std::exp(2.0 + 0.2 * x.engagement + 0.4 * rng.Normal())) / 10;
    x.spend = std::round(100 * std::exp(5.8 + 0.45 * x.engagement + 0.25 * x.tier + 0.5 * rng.Normal())) / 100;
    x.tickets = rng.Poisson(std::exp(-0.7 + 0.7 * frustration));
    // Churn: recency, frequency, spend, support contacts, tier, plus unobserved noise.
    const double churn_logit = -1.0 + 1.3 * (std::log1p(x.recency) - 2.6) - 0.25 * (x.sessions - 4) -
                               0.6 * (std::log(x.spend) - 6.0) + 0.55 * x.tickets -
                               0.35 * x.tier + 0.5 * rng.Normal();
    x.churned = rng.Bernoulli(Sigmoid(churn_logit));
    // Conversion: sessions, session length, newsletter, desktop, recency, referral.
    const double conv_logit = -1.0 + 0.25 * (x.sessions - 4) +
                              1.2 * (std::log(x.session_minutes) - 2.0) + 0.8 * x.newsletter +
                              0.7 * (x.device == 1) - 0.6 * (std::log1p(x.recency) - 2.6) +
                              0.6 * (x.channel == 3) + 0.5 * rng.Normal();
    x.converted = rng.Bernoulli(Sigmoid(conv_logit));
    x.activity = std::exp(0.6 * x.engagement);
    for (float& v : x.latent) v = static_cast<float>(rng.Normal());
  }
  double total_activity = 0;
  for (const User& x : users) total_activity += x.activity;

  // Per-user item choice: softmax of latent affinity plus popularity (docs/demo-data.md).
  std::vector<double> aff(n_items), cum(n_items);
  auto affinities = [&](const User& x) {
    for (size_t i = 0; i < n_items; ++i) {
      double dot = 0;
      for (int k = 0; k < kLatent; ++k) dot += x.latent[k] * items[i].latent[k];
      aff[i] = 1.4 * dot / std::sqrt(kLatent) + 0.5 * items[i].popularity;
    }
    double acc = 0;
    for (size_t i = 0; i < n_items; ++i) cum[i] = acc += std::exp(aff[i]);
  };

  RETURN_IF_ERROR(db.Transaction([&](store::SqlConnection& conn) -> absl::Status {
    const store::SqlBackend be = db.backend();
    std::vector<std::string> names;

    // ---- user_profiles ----
    RETURN_IF_ERROR(Create(conn, be, "user_profiles",
                           {{"user_id", LT::kCategorical}, {"created_at", LT::kTimestamp},
                            {"first_name", LT::kCategorical}, {"last_name", LT::kCategorical},
                            {"email", LT::kCategorical}, {"phone", LT::kCategorical},
                            {"country", LT::kCategorical}, {"age", LT::kInteger},
                            {"loyalty_tier", LT::kCategorical}, {"signup_channel", LT::kCategorical},
                            {"device", LT::kCategorical}, {"newsletter_opt_in", LT::kBoolean},
                            {"days_since_last_login", LT::kInteger}, {"sessions_last_30d", LT::kInteger},
                            {"avg_session_minutes", LT::kReal}, {"total_spend", LT::kReal},
                            {"support_tickets", LT::kInteger}, {"churned", LT::kBoolean},
                            {"converted", LT::kBoolean}},
                           &names));
    {
      BulkInserter ins(conn, "user_profiles", names);
      for (int64_t u = 0; u < n_users; ++u) {
        const User& x = users[u];
        SqlValue* r = ins.Row();
        const char* first = kFirstNames[(u * 7 + 3) % std::size(kFirstNames)];
        const char* last = kLastNames[(u * 13 + 5) % std::size(kLastNames)];
        r[0] = u + 1;
        r[1] = x.id;
        r[2] = x.signup;
        r[3] = std::string(first);
        r[4] = std::string(last);
        r[5] = StrCat(common::ToLower(first), ".", common::ToLower(last), u, "@example.com");
        r[6] = StrCat("+1-555-", 1000000 + (u * 7919) % 9000000);
        r[7] = std::string(kCountries[x.country]);
        r[8] = int64_t{x.age};
        r[9] = std::string(kTiers[x.tier]);
        r[10] = std::string(kSignupChannels[x.channel]);
        r[11] = std::string(kDevices[x.device]);
        r[12] = int64_t{x.newsletter};
        // A few missing values, as real exports have.
        r[13] = rng.Bernoulli(0.02) ? SqlValue() : SqlValue(static_cast<int64_t>(x.recency));
        r[14] = int64_t{x.sessions};
        r[15] = rng.Bernoulli(0.03) ? SqlValue() : SqlValue(x.session_minutes);
        r[16] = x.spend;
        r[17] = int64_t{x.tickets};
        r[18] = int64_t{x.churned};
        r[19] = int64_t{x.converted};
        RETURN_IF_ERROR(ins.EndRow());
      }
      RETURN_IF_ERROR(ins.Flush());
      report.rows["user_profiles"] = ins.rows_written();
    }

    // ---- user_events, reviews and trips, per user (one affinity table at a time) ----
    RETURN_IF_ERROR(Create(conn, be, "user_events",
                           {{"user_id", LT::kCategorical}, {"item_id", LT::kCategorical},
                            {"item_type", LT::kCategorical}, {"event_type", LT::kCategorical},
                            {"created_at", LT::kTimestamp}, {"device", LT::kCategorical},
                            {"dwell_seconds", LT::kInteger}},
                           &names));
    std::vector<std::string> review_names, trip_names;
    RETURN_IF_ERROR(Create(conn, be, "reviews",
                           {{"review_id", LT::kCategorical}, {"user_id", LT::kCategorical},
                            {"item_id", LT::kCategorical}, {"text", LT::kText},
                            {"created_at", LT::kTimestamp}, {"rating", LT::kInteger},
                            {"sentiment", LT::kCategorical}},
                           &review_names));
    RETURN_IF_ERROR(Create(conn, be, "trips",
                           {{"trip_id", LT::kCategorical}, {"user_id", LT::kCategorical},
                            {"destination", LT::kCategorical}, {"created_at", LT::kTimestamp},
                            {"start_date", LT::kTimestamp}, {"duration_days", LT::kInteger},
                            {"travelers", LT::kInteger}, {"purpose", LT::kCategorical},
                            {"transport", LT::kCategorical}, {"budget", LT::kReal}},
                           &trip_names));
    BulkInserter events(conn, "user_events", names);
    BulkInserter reviews(conn, "reviews", review_names);
    BulkInserter trips(conn, "trips", trip_names);
    int64_t event_row = 0, review_row = 0, trip_row = 0;
    for (const User& x : users) {
      affinities(x);
      const double share = x.activity / total_activity;
      const int64_t last_seen = now_ms - static_cast<int64_t>(x.recency * kDay);
      const int64_t first_seen = std::min(x.signup, last_seen - kDay);
      const int n_ev = rng.Poisson(options.events * share);
      for (int e = 0; e < n_ev; ++e) {
        const size_t i = rng.Pick(cum);
        const double q = Sigmoid(aff[i] - 1.0);
        const double r = rng.Uniform();
        const char* type = r < 0.02 + 0.10 * q   ? "book"
                           : r < 0.10 + 0.20 * q ? "wishlist"
                           : r < 0.35 + 0.30 * q ? "click"
                                                 : "view";
        SqlValue* row = events.Row();
        row[0] = ++event_row;
        row[1] = x.id;
        row[2] = items[i].id;
        row[3] = items[i].type;
        row[4] = std::string(type);
        row[5] = first_seen + static_cast<int64_t>(rng.Uniform() * (last_seen - first_seen));
        row[6] = std::string(kDevices[rng.Bernoulli(0.8) ? x.device : rng.Int(3)]);
        row[7] = static_cast<int64_t>(std::round(rng.Exponential(20 + 60 * q)));
        RETURN_IF_ERROR(events.EndRow());
      }
      const int n_rev = rng.Poisson(n_reviews * share);
      for (int v = 0; v < n_rev; ++v) {
        const size_t i = rng.Pick(cum);
        const int rating = std::clamp(
            static_cast<int>(std::lround(3.3 + 0.9 * aff[i] - 0.3 + 0.9 * rng.Normal())), 1, 5);
        SqlValue* row = reviews.Row();
        row[0] = ++review_row;
        row[1] = StrCat("r", 500000 + review_row);
        row[2] = x.id;
        row[3] = items[i].id;
        row[4] = ReviewText(rng, rating);
        row[5] = start_ms + static_cast<int64_t>(rng.Uniform() * kSpanDays * kDay);
        row[6] = int64_t{rating};
        row[7] = std::string(rating >= 4 ? "positive" : rating <= 2 ? "negative" : "neutral");
        RETURN_IF_ERROR(reviews.EndRow());
      }
      const int n_trip = rng.Poisson(n_trips * share);
      for (int t = 0; t < n_trip; ++t) {
        size_t i = rng.Pick(cum);
        const Destination& dest = kDestinations[items[i].destination];
        const int64_t created = start_ms + static_cast<int64_t>(rng.Uniform() * kSpanDays * kDay);
        const bool business = rng.Bernoulli(0.2);
        const int travelers = business ? 1 : 1 + rng.Poisson(1.2);
        const int duration = business ? 1 + rng.Poisson(2) : 2 + rng.Poisson(5);
        SqlValue* row = trips.Row();
        row[0] = ++trip_row;
        row[1] = StrCat("t", 700000 + trip_row);
        row[2] = x.id;
        row[3] = std::string(dest.name);
        row[4] = created;
        row[5] = created + static_cast<int64_t>(rng.Exponential(40) + 1) * kDay;
        row[6] = int64_t{duration};
        row[7] = int64_t{travelers};
        row[8] = std::string(business ? "business" : travelers > 2 ? "family" : "leisure");
        row[9] = std::string(std::string_view(dest.country) == kCountries[x.country] ? "car"
                             : rng.Bernoulli(0.8)                                  ? "flight"
                                                                                   : "train");
        row[10] = std::round(duration * travelers * (80 + 40 * x.tier) * std::exp(0.3 * rng.Normal()));
        RETURN_IF_ERROR(trips.EndRow());
      }
    }
    RETURN_IF_ERROR(events.Flush());
    RETURN_IF_ERROR(reviews.Flush());
    RETURN_IF_ERROR(trips.Flush());
    report.rows["user_events"] = events.rows_written();
    report.rows["reviews"] = reviews.rows_written();
    report.rows["trips"] = trips.rows_written();

    // ---- bookings: dates from the daily demand curve ----
    RETURN_IF_ERROR(Create(conn, be, "bookings",
                           {{"booking_id", LT::kCategorical}, {"user_id", LT::kCategorical},
                            {"item_id", LT::kCategorical}, {"created_at", LT::kTimestamp},
                            {"checkin_date", LT::kTimestamp}, {"lead_time_days", LT::kInteger},
                            {"nights", LT::kInteger}, {"guests", LT::kInteger},
                            {"price_per_night", LT::kReal}, {"amount", LT::kReal},
                            {"deposit_type", LT::kCategorical}, {"channel", LT::kCategorical},
                            {"country", LT::kCategorical}, {"loyalty_tier", LT::kCategorical},
                            {"previous_cancellations", LT::kInteger},
                            {"special_requests", LT::kInteger}, {"is_canceled", LT::kBoolean}},
                           &names));
    std::vector<double> day_weights(kSpanDays);
    for (int d = 0; d < kSpanDays; ++d) day_weights[d] = DemandIntensity(d, start_days);
    const std::vector<double> day_cum = Cumulative(day_weights);
    std::vector<double> user_w(n_users);
    for (int64_t u = 0; u < n_users; ++u) user_w[u] = users[u].activity;
    const std::vector<double> user_cum = Cumulative(user_w);
    BulkInserter bookings(conn, "bookings", names);
    static constexpr const char* kDeposits[] = {"no_deposit", "refundable", "non_refundable"};
    static constexpr const char* kChannels[] = {"direct", "ota", "travel_agent", "corporate"};
    const std::vector<double> deposit_cum = Cumulative({70, 18, 12});
    const std::vector<double> channel_cum = Cumulative({35, 45, 12, 8});
    for (int64_t b = 0; b < n_bookings; ++b) {
      const User& x = users[rng.Pick(user_cum)];
      const size_t hotel = hotels[rng.Int(static_cast<int>(hotels.size()))];
      const int day = static_cast<int>(rng.Pick(day_cum));
      const int64_t created = start_ms + day * kDay + static_cast<int64_t>(rng.Uniform() * kDay);
      const int channel = static_cast<int>(rng.Pick(channel_cum));
      const int deposit = static_cast<int>(rng.Pick(deposit_cum));
      const double lead_mean = channel == 3 ? 12 : channel == 2 ? 90 : 45;
      const int lead = std::min(365, static_cast<int>(rng.Exponential(lead_mean)));
      const int64_t checkin = created + lead * kDay;
      const int nights = 1 + rng.Poisson(x.tier >= 2 ? 3 : 2);
      const int guests = 1 + rng.Poisson(0.8);
      const double season = 1.0 + 0.25 * std::sin(2 * M_PI * ((day + lead) % 365 - 80) / 365.0);
      const double price = std::round(items[hotel].price * season * std::exp(0.15 * rng.Normal()));
      const int prev_cancel = rng.Poisson(0.15 + 0.25 * (x.engagement < -1));
      const int requests = rng.Poisson(0.7);
      // Cancellation: lead time, deposit, channel, history, requests, price, noise.
      static constexpr double kChannelEffect[] = {-0.3, 0.6, 0.3, -0.6};
      static constexpr double kDepositEffect[] = {0.2, -0.3, -1.6};
      const double cancel_logit = -2.0 + 0.014 * lead + kChannelEffect[channel] +
                                  kDepositEffect[deposit] + 0.8 * prev_cancel - 0.35 * requests +
                                  0.5 * std::log(price / 150.0) + 0.3 * rng.Normal();
      SqlValue* row = bookings.Row();
      row[0] = b + 1;
      row[1] = StrCat("b", 900000 + b);
      row[2] = x.id;
      row[3] = items[hotel].id;
      row[4] = created;
      row[5] = checkin;
      row[6] = int64_t{lead};
      row[7] = int64_t{nights};
      row[8] = int64_t{guests};
      row[9] = price;
      row[10] = price * nights;
      row[11] = std::string(kDeposits[deposit]);
      row[12] = std::string(kChannels[channel]);
      row[13] = std::string(kCountries[x.country]);
      row[14] = std::string(kTiers[x.tier]);
      row[15] = int64_t{prev_cancel};
      row[16] = int64_t{requests};
      row[17] = int64_t{rng.Bernoulli(Sigmoid(cancel_logit))};
      RETURN_IF_ERROR(bookings.EndRow());
    }
    RETURN_IF_ERROR(bookings.Flush());
    report.rows["bookings"] = bookings.rows_written();

    // ---- provider_data: monthly snapshots per provider ----
    RETURN_IF_ERROR(Create(conn, be, "provider_data",
                           {{"provider_id", LT::kCategorical}, {"created_at", LT::kTimestamp},
                            {"provider_type", LT::kCategorical}, {"country", LT::kCategorical},
                            {"listings", LT::kInteger}, {"avg_rating", LT::kReal},
                            {"response_time_hours", LT::kReal}, {"monthly_bookings", LT::kInteger},
                            {"revenue", LT::kReal}, {"commission_rate", LT::kReal}},
                           &names));
    BulkInserter providers(conn, "provider_data", names);
    const int n_providers = static_cast<int>(std::clamp<int64_t>(options.events / 1000, 40, 400));
    static constexpr const char* kProviderTypes[] = {"hotel_chain", "independent_hotel",
                                                     "tour_operator", "airline"};
    int64_t prow = 0;
    for (int p = 0; p < n_providers; ++p) {
      const int type = rng.Int(4);
      const char* country = kDestinations[rng.Int(kNumDestinations)].country;
      const double quality = rng.Normal();
      const int listings = 1 + rng.Poisson(type == 0 ? 40 : 6);
      const double response = std::exp(1.5 - 0.4 * quality + 0.3 * rng.Normal());
      const double rating = std::clamp(4.0 + 0.4 * quality - 0.05 * response + 0.15 * rng.Normal(), 1.0, 5.0);
      const double commission = std::round(1000 * (0.12 + 0.03 * rng.Uniform())) / 1000;
      for (int month = 0; month < 24; ++month) {
        const int64_t month_start = common::DaysFromCivil(2023 + month / 12, month % 12 + 1, 1);
        const double demand = DemandIntensity(static_cast<int>(month_start - start_days), start_days);
        const int monthly = rng.Poisson(listings * 3.0 * demand * std::exp(0.3 * quality));
        SqlValue* row = providers.Row();
        row[0] = ++prow;
        row[1] = StrCat("p", 3000 + p);
        row[2] = month_start * kDay;
        row[3] = std::string(kProviderTypes[type]);
        row[4] = std::string(country);
        row[5] = int64_t{listings};
        row[6] = std::round(100 * rating) / 100;
        row[7] = std::round(10 * response) / 10;
        row[8] = int64_t{monthly};
        row[9] = std::round(monthly * (60 + 30 * rng.Uniform()) * 100) / 100;
        row[10] = commission;
        RETURN_IF_ERROR(providers.EndRow());
      }
    }
    RETURN_IF_ERROR(providers.Flush());
    report.rows["provider_data"] = providers.rows_written();
    return absl::OkStatus();
  }));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace tsml::data
