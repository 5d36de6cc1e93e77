#include "data/frame.h"

#include <cmath>

#include "common/strings.h"
#include "common/time_util.h"
#include "data/bulk_insert.h"
#include "data/catalog.h"
#include "gtest/gtest.h"
#include "unit/data/test_util.h"

namespace tsml::data {
namespace {

using testing::TempDb;
using LT = LogicalType;

// A bookings table with a planted leaky column (`refund_issued` equals is_canceled but for 1%),
// a PII column, an id, a high-cardinality categorical, missing values and duplicate rows.
SourceSchema MakeBookings(store::Database& db, int rows) {
  SourceSchema schema{"bookings",
                      {{"booking_id", LT::kCategorical}, {"user_id", LT::kCategorical},
                       {"item_id", LT::kCategorical}, {"created_at", LT::kTimestamp},
                       {"email", LT::kCategorical}, {"lead_time", LT::kInteger},
                       {"price", LT::kReal}, {"channel", LT::kCategorical},
                       {"city", LT::kCategorical}, {"refund_issued", LT::kBoolean},
                       {"is_canceled", LT::kBoolean}}};
  absl::Status s = db.Transaction([&](store::SqlConnection& conn) -> absl::Status {
    absl::Status st = CreateSourceTable(conn, db.backend(), schema);
    if (!st.ok()) return st;
    std::vector<std::string> cols = {"_row"};
    for (const auto& c : schema.columns) cols.push_back(c.name);
    BulkInserter ins(conn, "bookings", cols);
    uint64_t r = 7;
    std::vector<store::SqlValue> prev;
    for (int i = 0; i < rows; ++i) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      const int lead = static_cast<int>((r >> 33) % 200);
      const bool canceled = ((r >> 20) % 100) < static_cast<uint64_t>(10 + lead / 4);
      store::SqlValue* row = ins.Row();
      row[0] = int64_t{i + 1};
      row[1] = common::StrCat("b", i);
      row[2] = std::string("u1");
      row[3] = std::string("h1");
      row[4] = int64_t{1700000000000LL + i * 3600000LL};
      row[5] = std::string("someone@example.com");
      row[6] = (i % 17 == 0) ? store::SqlValue() : store::SqlValue(int64_t{lead});
      row[7] = 100.0 + (r >> 40) % 100;
      row[8] = std::string((r >> 50) % 3 == 0 ? "ota" : (r >> 50) % 3 == 1 ? "direct" : "agent");
      row[9] = common::StrCat("city", (r >> 24) % 400);
      row[10] = int64_t{(i % 100 == 0) ? !canceled : canceled};
      row[11] = int64_t{canceled};
      if (i % 50 == 49) {  // a duplicate of the previous row (its id aside)
        for (size_t k = 2; k < cols.size(); ++k) row[k] = prev[k];
      }
      prev.assign(row, row + cols.size());
      if (!(st = ins.EndRow()).ok()) return st;
    }
    return ins.Flush();
  });
  EXPECT_TRUE(s.ok()) << s;
  return schema;
}

TEST(RocAucTest, KnownValues) {
  EXPECT_DOUBLE_EQ(RocAuc({1, 2, 3, 4}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc({4, 3, 2, 1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(RocAuc({1, 1, 1, 1}, {0, 1, 0, 1}), 0.5);
  EXPECT_DOUBLE_EQ(RocAuc({1, 2, 3}, {1, 1, 1}), 0.5);
}

TEST(FeatureFrameTest, ExcludesLeakagePiiAndIdsAndEncodes) {
  TempDb t;
  const SourceSchema schema = MakeBookings(t.db(), 5000);
  FrameOptions o;
  o.target = "is_canceled";
  auto frame = LoadFeatureFrame(t.db(), schema, o);
  ASSERT_TRUE(frame.ok()) << frame.status();
  std::map<std::string, std::string> excluded;
  for (const auto& e : frame->excluded) excluded[e.column] = e.reason;
  EXPECT_EQ(excluded["email"], "personal data");
  EXPECT_EQ(excluded["booking_id"], "identifier");
  EXPECT_EQ(excluded["user_id"], "identifier");
  ASSERT_TRUE(excluded.count("refund_issued")) << frame->Summary().dump();
  EXPECT_TRUE(common::StartsWith(excluded["refund_issued"], "leakage")) << excluded["refund_issued"];
  EXPECT_EQ(excluded.count("lead_time"), 0u) << "a real predictor is not leakage";

  const auto& names = frame->transform.feature_names();
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("lead_time"));
  EXPECT_TRUE(has("lead_time__missing"));
  EXPECT_TRUE(has("price"));
  EXPECT_FALSE(has("price__missing"));
  EXPECT_TRUE(has("channel=ota"));
  EXPECT_TRUE(has("created_at__dow"));
  EXPECT_TRUE(has("created_at__month"));
  EXPECT_TRUE(has("created_at__hour"));
  EXPECT_TRUE(has("created_at__doy"));
  EXPECT_FALSE(has("refund_issued"));
  // Duplicates removed: rows 49, 99, ... repeat their predecessor.
  EXPECT_EQ(frame->duplicates_removed, 100);
  EXPECT_EQ(frame->rows, 4900);
  EXPECT_EQ(frame->x.size(), static_cast<size_t>(frame->rows) * names.size());
  EXPECT_EQ(frame->y.size(), static_cast<size_t>(frame->rows));
  // lead_time still predicts the target (planted), if not perfectly.
  std::vector<double> lead;
  std::vector<float> y;
  const size_t lead_col = std::find(names.begin(), names.end(), "lead_time") - names.begin();
  for (int64_t i = 0; i < frame->rows; ++i) {
    lead.push_back(frame->x[i * names.size() + lead_col]);
    y.push_back(frame->y[i]);
  }
  EXPECT_GT(RocAuc(lead, y), 0.6);
}

TEST(FeatureFrameTest, TransformRoundTripsAndMatchesTrainingMatrix) {
  TempDb t;
  const SourceSchema schema = MakeBookings(t.db(), 2000);
  FrameOptions o;
  o.target = "is_canceled";
  auto frame = LoadFeatureFrame(t.db(), schema, o);
  ASSERT_TRUE(frame.ok()) << frame.status();
  const FeatureTransform& tr = frame->transform;
  auto reloaded = FeatureTransform::FromJson(common::ParseJson(tr.ToJson().dump()).value());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(reloaded->feature_names(), tr.feature_names());

  // The raw rows, as a client would send them, give the training matrix's rows.
  auto rows = testing::Select(t.db(),
                              "SELECT \"created_at\", \"lead_time\", \"price\", \"channel\", "
                              "\"city\" FROM \"bookings\" ORDER BY \"_row\" LIMIT 40");
  const size_t w = tr.num_features();
  std::vector<float> a(w), b(w);
  for (size_t i = 0; i < rows.size(); ++i) {
    Json row = {{"created_at", common::FormatIso8601(rows[i].Int(0))},
                {"lead_time", rows[i].IsNull(1) ? Json(nullptr) : Json(rows[i].Int(1))},
                {"price", rows[i].Double(2)},
                {"channel", rows[i].Str(3)},
                {"city", rows[i].Str(4)},
                {"email", "ignored@example.com"}};
    tr.Transform(row, a.data());
    reloaded->Transform(row, b.data());
    for (size_t k = 0; k < w; ++k) {
      if (std::isnan(a[k])) {
        EXPECT_TRUE(std::isnan(b[k]));
      } else {
        EXPECT_EQ(a[k], b[k]) << tr.feature_names()[k];
      }
    }
    if (i < 40 && i != 49) {  // no duplicate among the first rows: frame row i is raw row i
      for (size_t k = 0; k < w; ++k) {
        const float m = frame->x[i * w + k];
        if (std::isnan(m)) {
          EXPECT_TRUE(std::isnan(a[k])) << tr.feature_names()[k];
        } else {
          EXPECT_FLOAT_EQ(m, a[k]) << "row " << i << " " << tr.feature_names()[k];
        }
      }
    }
  }
  // Unknown levels and missing keys do not fail.
  tr.Transform(Json{{"channel", "carrier pigeon"}}, a.data());
  EXPECT_FALSE(FeatureTransform::FromJson(Json{{"version", 99}}).ok());
}

TEST(FeatureFrameTest, MemoryCapFailsClearly) {
  TempDb t;
  const SourceSchema schema = MakeBookings(t.db(), 3000);
  FrameOptions o;
  o.target = "is_canceled";
  o.memory_limit_bytes = 64 * 1024;
  auto frame = LoadFeatureFrame(t.db(), schema, o);
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(frame.status().message().find("memory"), std::string::npos);
  o.memory_limit_bytes = 64 << 20;
  EXPECT_TRUE(LoadFeatureFrame(t.db(), schema, o).ok());
}

TEST(FeatureFrameTest, FiltersAndNoRows) {
  TempDb t;
  const SourceSchema schema = MakeBookings(t.db(), 1000);
  common::ValidationErrors errors;
  FrameOptions o;
  o.target = "is_canceled";
  o.where = BuildWhere(schema, Json{{"channel", "ota"}}, Json(), &errors);
  ASSERT_TRUE(errors.empty());
  auto frame = LoadFeatureFrame(t.db(), schema, o);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_LT(frame->rows, 500);
  // `channel` is constant after the filter and is dropped.
  bool constant = false;
  for (const auto& e : frame->excluded) constant |= e.column == "channel" && e.reason == "constant";
  EXPECT_TRUE(constant);
  o.where = BuildWhere(schema, Json{{"channel", "none"}}, Json(), &errors);
  EXPECT_EQ(LoadFeatureFrame(t.db(), schema, o).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tsml::data
