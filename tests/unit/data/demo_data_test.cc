#include "data/demo_data.h"

#include <cmath>

#include "common/file_util.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "data/frame.h"
#include "gtest/gtest.h"
#include "unit/data/test_util.h"

namespace tsml::data {
namespace {

using testing::Select;
using testing::TempDb;

// A digest of every row of every source.
std::string Digest(store::Database& db) {
  std::string all;
  for (const std::string& source : SourceNames()) {
    for (const store::SqlRow& r : Select(db, "SELECT * FROM \"" + source + "\" ORDER BY \"_row\"")) {
      for (size_t i = 0; i < r.size(); ++i) all += r.Str(i) + "|";
      all += "\n";
    }
  }
  return common::Sha256Hex(all);
}

class DemoDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new TempDb();
    DemoOptions o;
    o.events = 40000;
    auto report = SeedDemo(db_->db(), o);
    ASSERT_TRUE(report.ok()) << report.status();
    report_ = new DemoReport(*report);
  }
  static void TearDownTestSuite() {
    delete db_;
    delete report_;
  }
  double Rate(const std::string& sql) { return Select(db_->db(), sql)[0].Double(0); }
  static TempDb* db_;
  static DemoReport* report_;
};
TempDb* DemoDataTest::db_ = nullptr;
DemoReport* DemoDataTest::report_ = nullptr;

TEST_F(DemoDataTest, FillsEverySourceWithRequiredColumns) {
  DataCatalog catalog(&db_->db());
  auto sources = catalog.ListSources();
  ASSERT_TRUE(sources.ok());
  for (const SourceSummary& s : *sources) {
    EXPECT_TRUE(s.exists) << s.source;
    EXPECT_GT(s.row_count, 100) << s.source;
    EXPECT_EQ(s.row_count, report_->rows.at(s.source));
    for (const std::string& req : s.required_columns) {
      bool found = false;
      for (const ColumnInfo& c : s.columns) found |= c.name == req;
      EXPECT_TRUE(found) << s.source << "." << req;
    }
  }
  EXPECT_NEAR(report_->rows.at("user_events"), 40000, 4000);
}

TEST_F(DemoDataTest, SameSeedSameDataOtherSeedOtherData) {
  TempDb a, b, c;
  DemoOptions o;
  o.events = 5000;
  ASSERT_TRUE(SeedDemo(a.db(), o).ok());
  ASSERT_TRUE(SeedDemo(b.db(), o).ok());
  o.seed = 7;
  ASSERT_TRUE(SeedDemo(c.db(), o).ok());
  EXPECT_EQ(Digest(a.db()), Digest(b.db()));
  EXPECT_NE(Digest(a.db()), Digest(c.db()));
}

TEST_F(DemoDataTest, CancellationRisesWithLeadTimeAndFallsWithNonRefundableDeposits) {
  const double short_lead = Rate("SELECT AVG(is_canceled) FROM bookings WHERE lead_time_days < 14");
  const double long_lead = Rate("SELECT AVG(is_canceled) FROM bookings WHERE lead_time_days >= 90");
  EXPECT_GT(long_lead, short_lead + 0.15) << short_lead << " vs " << long_lead;
  const double non_ref = Rate("SELECT AVG(is_canceled) FROM bookings WHERE deposit_type = 'non_refundable'");
  const double no_dep = Rate("SELECT AVG(is_canceled) FROM bookings WHERE deposit_type = 'no_deposit'");
  EXPECT_LT(non_ref, no_dep - 0.1);
  const double overall = Rate("SELECT AVG(is_canceled) FROM bookings");
  EXPECT_GT(overall, 0.15);
  EXPECT_LT(overall, 0.5);
}

TEST_F(DemoDataTest, ChurnFollowsRecencyButIsNotDeterministic) {
  const double recent = Rate("SELECT AVG(churned) FROM user_profiles WHERE days_since_last_login < 7");
  const double stale = Rate("SELECT AVG(churned) FROM user_profiles WHERE days_since_last_login > 45");
  EXPECT_GT(stale, recent + 0.25) << recent << " vs " << stale;
  const double tickets = Rate("SELECT AVG(churned) FROM user_profiles WHERE support_tickets >= 2");
  const double none = Rate("SELECT AVG(churned) FROM user_profiles WHERE support_tickets = 0");
  EXPECT_GT(tickets, none);
  // Single features are informative but far from perfect; nothing is flagged as leakage.
  DataCatalog catalog(&db_->db());
  auto schema = catalog.GetSchema("user_profiles");
  ASSERT_TRUE(schema.ok());
  FrameOptions o;
  o.target = "churned";
  auto frame = LoadFeatureFrame(db_->db(), *schema, o);
  ASSERT_TRUE(frame.ok()) << frame.status();
  for (const auto& e : frame->excluded) EXPECT_EQ(e.reason.find("leakage"), std::string::npos) << e.column;
  const auto& names = frame->transform.feature_names();
  const size_t col = std::find(names.begin(), names.end(), "days_since_last_login") - names.begin();
  ASSERT_LT(col, names.size());
  std::vector<double> score;
  for (int64_t i = 0; i < frame->rows; ++i) score.push_back(frame->x[i * names.size() + col]);
  const double auc = RocAuc(score, frame->y);
  EXPECT_GT(auc, 0.65);
  EXPECT_LT(auc, 0.9);
  const double churn_rate = Rate("SELECT AVG(churned) FROM user_profiles");
  EXPECT_GT(churn_rate, 0.15);
  EXPECT_LT(churn_rate, 0.6);
  const double conv_rate = Rate("SELECT AVG(converted) FROM user_profiles");
  EXPECT_GT(conv_rate, 0.15);
  EXPECT_LT(conv_rate, 0.7);
}

TEST_F(DemoDataTest, DemandHasWeeklyPatternTrendAndHolidays) {
  // Mondays busier than Saturdays; 2024 busier than 2023; Christmas busier than early December.
  const int64_t t2024 = 1704067200000LL;
  const double y2023 = Rate("SELECT COUNT(*) FROM bookings WHERE created_at < " + std::to_string(t2024));
  const double y2024 = Rate("SELECT COUNT(*) FROM bookings WHERE created_at >= " + std::to_string(t2024));
  EXPECT_GT(y2024, 1.2 * y2023);
  // Day of week from epoch days: (days + 4) % 7, 0 = Sunday.
  const double monday = Rate("SELECT COUNT(*) FROM bookings WHERE ((created_at / 86400000) + 4) % 7 = 1");
  const double saturday = Rate("SELECT COUNT(*) FROM bookings WHERE ((created_at / 86400000) + 4) % 7 = 6");
  EXPECT_GT(monday, 1.3 * saturday);
}

TEST_F(DemoDataTest, ReviewsTextCarriesSentimentAndRecommendationsBeatPopularity) {
  const double pos_great = Rate("SELECT AVG(CASE WHEN text LIKE '%Would definitely%' OR text LIKE '%Cannot wait%' OR text LIKE '%Five stars%' THEN 1.0 ELSE 0 END) FROM reviews WHERE sentiment = 'positive'");
  const double neg_great = Rate("SELECT AVG(CASE WHEN text LIKE '%Would definitely%' OR text LIKE '%Cannot wait%' OR text LIKE '%Five stars%' THEN 1.0 ELSE 0 END) FROM reviews WHERE sentiment = 'negative'");
  EXPECT_GT(pos_great, 0.5);
  EXPECT_LT(neg_great, 0.2);
  const double negations = Rate("SELECT AVG(CASE WHEN text LIKE '% not %' OR text LIKE '%never%' OR text LIKE '%wasn''t%' THEN 1.0 ELSE 0 END) FROM reviews");
  EXPECT_GT(negations, 0.2);
  // Personal taste: a user's share of events on their own top item beats the global top item's.
  const double top_global = Rate(
      "SELECT MAX(c) * 1.0 / (SELECT COUNT(*) FROM user_events) FROM "
      "(SELECT COUNT(*) AS c FROM user_events GROUP BY item_id)");
  const double top_personal = Rate(
      "SELECT AVG(m * 1.0 / n) FROM (SELECT user_id, MAX(c) AS m, SUM(c) AS n FROM "
      "(SELECT user_id, item_id, COUNT(*) AS c FROM user_events GROUP BY user_id, item_id) "
      "GROUP BY user_id HAVING SUM(c) >= 20)");
  EXPECT_GT(top_personal, 2 * top_global) << top_personal << " vs " << top_global;
}

}  // namespace
}  // namespace tsml::data
