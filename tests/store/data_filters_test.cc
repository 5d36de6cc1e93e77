// Filter translation, request validation and import on every backend: SQLite (a temp file)
// and PostgreSQL (TSML_TEST_PG_URL; these cases fail when it is unset).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/errors.h"
#include "common/strings.h"
#include "data/bulk_insert.h"
#include "data/catalog.h"
#include "data/csv_import.h"
#include "data/filters.h"
#include "data/frame.h"
#include "gtest/gtest.h"
#include "store/sql.h"

#include "support/test_db.h"

namespace tsml::data {
namespace {

using LT = LogicalType;

class DataFiltersTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tsml_filters_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    // Each test gets its own database (PostgreSQL: its own schema), so suites may run in
    // parallel processes.
    auto scoped = test::ScopedTestDatabase::Create(GetParam(), dir_);
    ASSERT_TRUE(scoped.ok()) << scoped.status();
    scoped_ = std::make_unique<test::ScopedTestDatabase>(*std::move(scoped));
    const std::string url = scoped_->url();
    auto db = store::OpenDatabase(url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    // The sources are fixed table names: each test starts from empty ones. (Tests of one
    // process run one at a time; PostgreSQL runs of two processes would share them.)
    ASSERT_TRUE(db_->Transaction([](store::SqlConnection& c) -> absl::Status {
                  for (const std::string& s : SourceNames()) {
                    auto r = c.Query("DROP TABLE IF EXISTS " + QuoteIdent(s));
                    if (!r.ok()) return r.status();
                  }
                  return c.Query("DROP TABLE IF EXISTS tsml_columns").status();
                }).ok());
    schema_ = {"bookings",
               {{"booking_id", LT::kCategorical}, {"user_id", LT::kCategorical},
                {"item_id", LT::kCategorical}, {"created_at", LT::kTimestamp},
                {"amount", LT::kReal}, {"nights", LT::kInteger}, {"country", LT::kCategorical},
                {"is_canceled", LT::kBoolean}, {"note", LT::kText}}};
    absl::Status s = db_->Transaction([&](store::SqlConnection& conn) -> absl::Status {
      absl::Status st = CreateSourceTable(conn, db_->backend(), schema_);
      if (!st.ok()) return st;
      std::vector<std::string> cols = {"_row"};
      for (const auto& c : schema_.columns) cols.push_back(c.name);
      BulkInserter ins(conn, "bookings", cols);
      const char* countries[] = {"FR", "US", "DE", "O'Brien\"; DROP TABLE bookings; --"};
      for (int i = 0; i < 100; ++i) {
        store::SqlValue* r = ins.Row();
        r[0] = int64_t{i + 1};
        r[1] = common::StrCat("b", i);
        r[2] = common::StrCat("u", i % 10);
        r[3] = common::StrCat("h", i % 7);
        r[4] = int64_t{1704067200000LL + i * 86400000LL};  // 2024-01-01 + i days
        r[5] = i % 10 == 0 ? store::SqlValue() : store::SqlValue(i * 10.0);
        r[6] = int64_t{i % 5};
        r[7] = std::string(countries[i % 4]);
        r[8] = int64_t{i % 3 == 0};
        r[9] = std::string("a long free text note about the booking number ") + std::to_string(i);
        if (!(st = ins.EndRow()).ok()) return st;
      }
      return ins.Flush();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  void TearDown() override {
    db_.reset();
    scoped_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Rows matching filters/dateRange, or -1 with the field errors in *errors.
  int64_t Matching(const Json& filters, const Json& range = Json(),
                   std::vector<common::FieldError>* errors_out = nullptr) {
    common::ValidationErrors errors;
    SqlWhere where = BuildWhere(schema_, filters, range, &errors);
    if (!errors.empty()) {
      if (errors_out) *errors_out = errors.errors();
      return -1;
    }
    int64_t n = -2;
    absl::Status s = db_->Run([&](store::SqlConnection& c) -> absl::Status {
      auto rows = c.Query("SELECT COUNT(*) FROM \"bookings\"" + where.sql, where.params);
      if (!rows.ok()) return rows.status();
      n = (*rows)[0].Int(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s << " for " << where.sql;
    return n;
  }

  std::string FirstField(const Json& filters, const Json& range = Json()) {
    std::vector<common::FieldError> errors;
    EXPECT_EQ(Matching(filters, range, &errors), -1);
    return errors.empty() ? "" : errors[0].field;
  }

  std::string dir_;
  std::unique_ptr<test::ScopedTestDatabase> scoped_;
  std::unique_ptr<store::Database> db_;
  SourceSchema schema_;
};

TEST_P(DataFiltersTest, TranslatesOperatorsAsBoundParameters) {
  EXPECT_EQ(Matching(Json()), 100);
  EXPECT_EQ(Matching(Json::object()), 100);
  EXPECT_EQ(Matching({{"country", "FR"}}), 25);
  EXPECT_EQ(Matching({{"country", "O'Brien\"; DROP TABLE bookings; --"}}), 25);
  EXPECT_EQ(Matching({{"country", {{"ne", "FR"}}}}), 75);
  EXPECT_EQ(Matching({{"country", {{"in", {"FR", "US"}}}}}), 50);
  EXPECT_EQ(Matching({{"country", {{"nin", {"FR", "US"}}}}}), 50);
  EXPECT_EQ(Matching({{"country", {"DE"}}}), 25);  // a bare array means "in"
  EXPECT_EQ(Matching({{"amount", {{"gte", 100}, {"lt", 500}}}}), 36);  // 10..49 minus 10,20,30,40
  EXPECT_EQ(Matching({{"amount", {{"gt", 950.5}}}}), 4);               // 960,970,980,990
  EXPECT_EQ(Matching({{"amount", nullptr}}), 10);                      // IS NULL
  EXPECT_EQ(Matching({{"amount", {{"ne", nullptr}}}}), 90);
  EXPECT_EQ(Matching({{"nights", {{"lte", 1}}}}), 40);
  EXPECT_EQ(Matching({{"is_canceled", true}}), 34);
  EXPECT_EQ(Matching({{"is_canceled", 0}}), 66);
  EXPECT_EQ(Matching({{"created_at", {{"gte", "2024-02-01"}}}}), 69);
  EXPECT_EQ(Matching({{"created_at", {{"lt", "2024-01-11T00:00:00+00:00"}}}}), 10);
  EXPECT_EQ(Matching({{"country", "FR"}, {"nights", {{"gt", 2}}}}), 10);
  EXPECT_EQ(Matching(Json(), {{"startDate", "2024-01-10"}, {"endDate", "2024-01-19"}}), 10);
  EXPECT_EQ(Matching(Json(), {{"startDate", "2024-03-01T00:00:00Z"}}), 40);
  EXPECT_EQ(Matching(Json(), {{"endDate", "2024-01-01"}}), 1);
}

TEST_P(DataFiltersTest, RejectsBadFiltersNamingTheField) {
  EXPECT_EQ(FirstField({{"colour", "red"}}), "trainingData.filters.colour");
  EXPECT_EQ(FirstField({{"amount", {{"between", 1}}}}), "trainingData.filters.amount.between");
  EXPECT_EQ(FirstField({{"amount", {{"gte", "lots"}}}}), "trainingData.filters.amount.gte");
  EXPECT_EQ(FirstField({{"amount", "1"}}), "trainingData.filters.amount");
  EXPECT_EQ(FirstField({{"country", 3}}), "trainingData.filters.country");
  EXPECT_EQ(FirstField({{"country", {{"gt", "A"}}}}), "trainingData.filters.country.gt");
  EXPECT_EQ(FirstField({{"country", {{"in", Json::array()}}}}), "trainingData.filters.country.in");
  EXPECT_EQ(FirstField({{"country", {{"in", {"FR", 1}}}}}), "trainingData.filters.country.in[1]");
  EXPECT_EQ(FirstField({{"is_canceled", "yes"}}), "trainingData.filters.is_canceled");
  EXPECT_EQ(FirstField({{"created_at", {{"gte", "last tuesday"}}}}), "trainingData.filters.created_at.gte");
  EXPECT_EQ(FirstField({{"amount", Json::object()}}), "trainingData.filters.amount");
  EXPECT_EQ(FirstField(Json::array()), "trainingData.filters");
  EXPECT_EQ(FirstField(Json(), {{"startDate", "soon"}}), "trainingData.dateRange.startDate");
  EXPECT_EQ(FirstField(Json(), {{"startDate", "2024-02-01"}, {"endDate", "2024-01-01"}}),
            "trainingData.dateRange.endDate");
}

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& e : common::FieldErrorsOf(s)) out.push_back(e.field);
  return out;
}

TEST_P(DataFiltersTest, ValidatesTrainingRequestsAgainstTheData) {
  DataCatalog catalog(db_.get());
  auto ok = [&](std::string_view type, const Json& td) {
    absl::Status s = ValidateTrainingRequest(catalog, type, td);
    EXPECT_TRUE(s.ok()) << type << " " << td.dump() << ": " << s;
  };
  auto fields = [&](std::string_view type, const Json& td) {
    absl::Status s = ValidateTrainingRequest(catalog, type, td);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << td.dump();
    return Fields(s);
  };
  using V = std::vector<std::string>;
  ok("predictive_analytics", {{"source", "bookings"}});
  ok("predictive_analytics", {{"source", "bookings"}, {"target", "amount"}, {"features", {"nights", "country"}},
                              {"filters", {{"country", "FR"}}}, {"dateRange", {{"startDate", "2024-01-01"}}}});
  ok("recommendation", {{"source", "bookings"}});
  ok("demand_forecast", {{"source", "bookings"}});
  EXPECT_EQ(fields("predictive_analytics", {{"source", "nowhere"}}), V{"trainingData.source"});
  EXPECT_EQ(fields("predictive_analytics", {{"source", "reviews"}}), V{"trainingData.source"});  // empty
  EXPECT_EQ(fields("predictive_analytics", {{"source", "bookings"}, {"target", "profit"}}),
            V{"trainingData.target"});
  EXPECT_EQ(fields("predictive_analytics", {{"source", "bookings"}, {"features", {"nights", "colour"}}}),
            V{"trainingData.features[1]"});
  EXPECT_EQ(fields("churn_prediction", {{"source", "bookings"}}), V{"trainingData.source"});
  EXPECT_EQ(fields("nlp_sentiment", {{"source", "bookings"}}).size(), 1u);  // text yes, label no
  EXPECT_EQ(fields("demand_forecast", {{"source", "bookings"}, {"target", "country"}}),
            V{"trainingData.target"});
  EXPECT_EQ(fields("predictive_analytics", {{"source", "bookings"}, {"filters", {{"nope", 1}}}}),
            V{"trainingData.filters.nope"});
  auto resolved = ResolveTrainingData(catalog, "predictive_analytics", {{"source", "bookings"}});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->target, "is_canceled");
  auto nlp = ResolveTrainingData(catalog, "nlp_sentiment", {{"source", "bookings"}, {"target", "country"}});
  ASSERT_TRUE(nlp.ok()) << nlp.status();
  EXPECT_EQ(nlp->text_column, "note");
}

TEST_P(DataFiltersTest, ImportAndFrameWorkOnThisBackend) {
  const std::string path = dir_ + "/users.csv";
  {
    std::ofstream out(path);
    out << "user_id,created_at,email,age,country,churned\n";
    for (int i = 0; i < 300; ++i) {
      out << "u" << i << ",2024-01-" << (i % 28 + 1 < 10 ? "0" : "") << i % 28 + 1 << ",x" << i
          << "@example.com," << 20 + i % 50 << "," << (i % 3 ? "FR" : "\"US, east\"") << ","
          << (i % 50 < 20 ? 1 : 0) << "\n";
    }
    out << "u_bad,2024-13-01,x@example.com,30,FR,0\n";
  }
  auto refused = ImportCsv(*db_, "user_profiles", path);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line 302"), std::string::npos) << refused.status();
  DataCatalog catalog(db_.get());
  EXPECT_EQ(catalog.GetSchema("user_profiles").status().code(), absl::StatusCode::kNotFound);

  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 39);  // drop the bad row
  auto report = ImportCsv(*db_, "user_profiles", path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows, 300);
  auto schema = catalog.GetSchema("user_profiles");
  ASSERT_TRUE(schema.ok());
  FrameOptions o;
  o.target = "churned";
  common::ValidationErrors errors;
  o.where = BuildWhere(*schema, {{"country", {{"in", {"FR", "US, east"}}}}}, Json(), &errors);
  ASSERT_TRUE(errors.empty());
  auto frame = LoadFeatureFrame(*db_, *schema, o);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->rows, 300);
  for (const auto& name : frame->transform.feature_names()) EXPECT_NE(name, "email");
}

INSTANTIATE_TEST_SUITE_P(Backends, DataFiltersTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tsml::data
