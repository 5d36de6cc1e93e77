#include "support/shared_data.h"
#include "data/csv_import.h"

#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "common/time_util.h"
#include "data/catalog.h"
#include "gtest/gtest.h"
#include "unit/data/test_util.h"

namespace tsml::data {
namespace {

using testing::Count;
using testing::Select;
using testing::TempDb;

const std::string kSharedData = test::SharedDataDir();

const ColumnInfo* Col(const ImportReport& r, const std::string& name) {
  for (const ColumnInfo& c : r.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool TableExists(store::Database& db, const std::string& source) {
  DataCatalog catalog(&db);
  return catalog.GetSchema(source).ok();
}

TEST(NormalizeColumnNameTest, TrimsLowercasesAndReplaces) {
  EXPECT_EQ(NormalizeColumnName("  Booking ID# ", 0), "booking_id");
  EXPECT_EQ(NormalizeColumnName("Created-At", 0), "created_at");
  EXPECT_EQ(NormalizeColumnName("__x__", 0), "x");
  EXPECT_EQ(NormalizeColumnName("", 4), "column_5");
  EXPECT_EQ(NormalizeColumnName("\"; DROP TABLE x; --", 0), "drop_table_x");
}

TEST(MissingValueTest, RecognizesCommonMarkers) {
  for (const char* v : {"", "  ", "NULL", "null", "NA", "n/a", "NaN", "#N/A"}) {
    EXPECT_TRUE(IsMissingValue(v)) << v;
  }
  for (const char* v : {"0", "none", "NAN2", "x"}) EXPECT_FALSE(IsMissingValue(v)) << v;
}

TEST(ParseTimestampLenientTest, AcceptsIsoAndCommonForms) {
  const int64_t jan2 = common::DaysFromCivil(2011, 1, 2) * 86400000;
  EXPECT_EQ(ParseTimestampLenient("2011-01-02"), jan2);
  EXPECT_EQ(ParseTimestampLenient("2011-01-02T01:00:00+01:00"), jan2);
  EXPECT_EQ(ParseTimestampLenient("2011-01-02 00:00:00"), jan2);
  EXPECT_EQ(ParseTimestampLenient("1/2/11"), jan2);
  EXPECT_EQ(ParseTimestampLenient("1/2/2011"), jan2);
  EXPECT_EQ(ParseTimestampLenient("2011/01/02"), jan2);
  EXPECT_EQ(ParseTimestampLenient("25/12/2011"), common::DaysFromCivil(2011, 12, 25) * 86400000);
  EXPECT_EQ(ParseTimestampLenient("1/2/2011 1:30 PM"), jan2 + (13 * 60 + 30) * 60000);
  EXPECT_EQ(ParseTimestampLenient("2011-01-02 00:00:00 UTC"), jan2);
  for (const char* bad : {"", "yesterday", "2011-02-30", "13/13/2011", "12", "1/2", "2011-01-02x"}) {
    EXPECT_FALSE(ParseTimestampLenient(bad).has_value()) << bad;
  }
}

TEST(CsvImportTest, ParsesRfc4180AndInfersTypes) {
  TempDb t;
  // BOM, CRLF, quoted delimiter/quote/newline, missing markers, a blank line.
  const std::string csv =
      "\xEF\xBB\xBF" "Booking ID,User ID,item_id,Created At,Amount,Nights,Is Canceled,Channel,Note\r\n"
      "b1,u1,h1,2024-01-02,100.5,2,0,ota,\"hello, world\"\r\n"
      "b2,u2,h2,2024-01-03T10:00:00+02:00,NULL,3,1,direct,\"she said \"\"hi\"\"\"\r\n"
      "\r\n"
      "b3,u1,h3,1/4/2024,75,1,true,ota,\"line one\r\nline two\"\r\n"
      "b4,u3,h1,2024-01-05,NA,,no,NA,plain\n";
  auto report = ImportCsv(t.db(), "bookings", t.Write("b.csv", csv));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows, 4);
  EXPECT_TRUE(report->created);
  EXPECT_EQ(Col(*report, "booking_id")->type, LogicalType::kCategorical);
  EXPECT_EQ(Col(*report, "created_at")->type, LogicalType::kTimestamp);
  EXPECT_EQ(Col(*report, "amount")->type, LogicalType::kReal);
  EXPECT_EQ(Col(*report, "nights")->type, LogicalType::kInteger);
  EXPECT_EQ(Col(*report, "is_canceled")->type, LogicalType::kBoolean);
  EXPECT_EQ(Col(*report, "channel")->type, LogicalType::kCategorical);

  auto rows = Select(t.db(),
                     "SELECT \"booking_id\", \"created_at\", \"amount\", \"nights\", "
                     "\"is_canceled\", \"channel\", \"note\" FROM \"bookings\" ORDER BY \"_row\"");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].Str(0), "b1");
  EXPECT_EQ(rows[0].Int(1), *common::ParseIso8601("2024-01-02"));
  EXPECT_DOUBLE_EQ(rows[0].Double(2), 100.5);
  EXPECT_EQ(rows[0].Str(6), "hello, world");
  EXPECT_EQ(rows[1].Int(1), *common::ParseIso8601("2024-01-03T08:00:00Z"));
  EXPECT_TRUE(rows[1].IsNull(2));
  EXPECT_EQ(rows[1].Str(6), "she said \"hi\"");
  EXPECT_EQ(rows[2].Int(1), *common::ParseIso8601("2024-01-04"));
  EXPECT_EQ(rows[2].Int(4), 1);
  EXPECT_EQ(rows[2].Str(6), "line one\r\nline two");
  EXPECT_TRUE(rows[3].IsNull(3));
  EXPECT_EQ(rows[3].Int(4), 0);
  EXPECT_TRUE(rows[3].IsNull(5));
}

// Each hostile file is refused with its line and reason, and leaves the existing data intact.
struct HostileCase {
  const char* name;
  std::string contents;
  std::string expected;  // substring of the error message
};

TEST(CsvImportTest, HostileFilesAreRefusedWholeWithLineNumbers) {
  const std::string header = "booking_id,user_id,item_id,created_at,amount\n";
  const std::vector<HostileCase> cases = {
      {"ragged", header + "b1,u1,h1,2024-01-01,1\nb2,u2,h2,2024-01-02\n", "line 3: expected 5"},
      {"ragged_long", header + "b1,u1,h1,2024-01-01,1,extra\n", "line 2: expected 5"},
      {"bad_date", header + "b1,u1,h1,2024-01-01,1\nb2,u2,h2,not a date,2\n", "line 3: created_at"},
      {"feb30", header + "b1,u1,h1,2024-02-30,1\n", "line 2: created_at"},
      {"empty", "", "empty"},
      {"only_bom", "\xEF\xBB\xBF", "empty"},
      {"nul_bytes", header + "b1,u1,h1,2024-01-01,1\n" + std::string("b2,u\0\x01\x02,h,2024-01-01,1\n", 23),
       "line 3: binary data"},
      {"invalid_utf8", header + "b1,u1,h1,2024-01-01,\xff\xfe\n", "line 2: invalid UTF-8"},
      {"unterminated", header + "b1,u1,h1,2024-01-01,\"oops\nb2,u2,h2,2024-01-02,2\n",
       "line 2: unterminated"},
      {"missing_required", "booking_id,amount\nb1,1\n", "user_id, item_id, created_at"},
      {"empty_required", header + "b1,,h1,2024-01-01,1\n", "line 2: required column 'user_id'"},
  };
  for (const HostileCase& c : cases) {
    SCOPED_TRACE(c.name);
    TempDb t;
    ImportOptions replace;
    replace.replace = true;
    ASSERT_TRUE(ImportCsv(t.db(), "bookings",
                          t.Write("good.csv", header + "g1,u1,h1,2024-01-01,5\n"), replace)
                    .ok());
    for (bool rep : {false, true}) {
      ImportOptions o;
      o.replace = rep;
      auto r = ImportCsv(t.db(), "bookings", t.Write("bad.csv", c.contents), o);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status();
      EXPECT_EQ(Count(t.db(), "bookings"), 1);  // nothing half-imported, nothing dropped
    }
  }
}

TEST(CsvImportTest, HugeFieldsAndJunkTextAreStoredVerbatim) {
  TempDb t;
  const std::string big(100000, 'x');
  const std::string junk = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 <script>'; DROP TABLE reviews; --";
  std::string csv = "review_id,user_id,item_id,text,created_at\n";
  csv += "r1,u1,i1,\"" + big + "\",2024-01-01\n";
  csv += "r2,u1,i1,\"" + junk + "\",2024-01-01\n";
  auto r = ImportCsv(t.db(), "reviews", t.Write("r.csv", csv));
  ASSERT_TRUE(r.ok()) << r.status();
  auto rows = Select(t.db(), "SELECT \"text\" FROM \"reviews\" ORDER BY \"_row\"");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Str(0), big);
  EXPECT_EQ(rows[1].Str(0), junk);

  // A field beyond the limit (usually a lost quote) is refused.
  ImportOptions small;
  small.max_field_bytes = 1000;
  auto refused = ImportCsv(t.db(), "reviews", t.Write("r2.csv", csv), small);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("line 2: field longer"), std::string::npos);
  EXPECT_EQ(Count(t.db(), "reviews"), 2);
}

TEST(CsvImportTest, AppendChecksColumnsAndReplaceRecreates) {
  TempDb t;
  const std::string header = "booking_id,user_id,item_id,created_at,amount\n";
  ASSERT_TRUE(ImportCsv(t.db(), "bookings", t.Write("a.csv", header + "b1,u1,h1,2024-01-01,5\n")).ok());
  // Append: same columns (fewer is fine), values converted to the table's types.
  auto appended = ImportCsv(t.db(), "bookings",
                            t.Write("b.csv", "booking_id,user_id,item_id,created_at\nb2,u2,h2,2024-01-02\n"));
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_FALSE(appended->created);
  EXPECT_EQ(Count(t.db(), "bookings"), 2);
  // An unknown column or a value that does not fit the column's type is refused.
  auto unknown = ImportCsv(t.db(), "bookings", t.Write("c.csv", "booking_id,user_id,item_id,created_at,color\nb3,u,h,2024-01-01,red\n"));
  EXPECT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("color"), std::string::npos);
  auto wrong_type = ImportCsv(t.db(), "bookings", t.Write("d.csv", header + "b4,u,h,2024-01-01,lots\n"));
  EXPECT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("line 2: column 'amount'"), std::string::npos);
  EXPECT_EQ(Count(t.db(), "bookings"), 2);
  // Replace: the new file's columns win.
  ImportOptions o;
  o.replace = true;
  auto replaced = ImportCsv(t.db(), "bookings", t.Write("c.csv", "booking_id,user_id,item_id,created_at,color\nb3,u,h,2024-01-01,red\n"), o);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(Count(t.db(), "bookings"), 1);
  DataCatalog catalog(&t.db());
  auto schema = catalog.GetSchema("bookings");
  ASSERT_TRUE(schema.ok());
  EXPECT_NE(schema->Find("color"), nullptr);
  EXPECT_EQ(schema->Find("amount"), nullptr);
}

TEST(CsvImportTest, UnknownSourceAndMissingFile) {
  TempDb t;
  EXPECT_EQ(ImportCsv(t.db(), "nope", "/nonexistent.csv").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ImportCsv(t.db(), "bookings", t.dir() + "/missing.csv").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(TableExists(t.db(), "bookings"));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Real data (Fanaee-T & Gama 2013, UCI bike sharing): header renamed so the required
// provider_data columns exist; day.csv has ISO dates, hour.csv m/d/yy.
TEST(CsvImportTest, ImportsBikeSharingFiles) {
  TempDb t;
  for (const char* file : {"day.csv", "hour.csv"}) {
    SCOPED_TRACE(file);
    std::string text = ReadAll(kSharedData + "/bike_sharing/" + file);
    ASSERT_FALSE(text.empty()) << "missing " << kSharedData << "/bike_sharing/" << file;
    const size_t nl = text.find('\n');
    std::string header = text.substr(0, nl);
    header.replace(header.find("instant"), 7, "provider_id");
    header.replace(header.find("dteday"), 6, "created_at");
    const std::string path = t.Write(file, header + text.substr(nl));
    ImportOptions o;
    o.replace = true;
    auto r = ImportCsv(t.db(), "provider_data", path, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->rows, std::string(file) == "day.csv" ? 731 : 17379);
    EXPECT_EQ(Col(*r, "created_at")->type, LogicalType::kTimestamp);
    EXPECT_EQ(Col(*r, "cnt")->type, LogicalType::kInteger);
    EXPECT_EQ(Col(*r, "temp")->type, LogicalType::kReal);
    EXPECT_EQ(Col(*r, "holiday")->type, LogicalType::kBoolean);
    auto span = Select(t.db(), "SELECT MIN(\"created_at\"), MAX(\"created_at\") FROM \"provider_data\"");
    EXPECT_EQ(span[0].Int(0), *common::ParseIso8601("2011-01-01"));
    EXPECT_EQ(span[0].Int(1), *common::ParseIso8601("2012-12-31"));
  }
  DataCatalog catalog(&t.db());
  auto sources = catalog.ListSources();
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 6u);
  for (const SourceSummary& s : *sources) {
    EXPECT_EQ(s.exists, s.source == "provider_data") << s.source;
    if (s.source == "provider_data") {
      EXPECT_EQ(s.row_count, 17379);
      EXPECT_EQ(s.ToJson()["timeSpan"]["from"], "2011-01-01T00:00:00.000Z");
    }
  }
}

// Real text (Kotzias et al. 2015): tab-separated "sentence\tlabel" turned into a reviews CSV
// with quoting, since the sentences hold commas and quotes.
TEST(CsvImportTest, ImportsSentimentSentences) {
  TempDb t;
  std::string csv = "review_id,user_id,item_id,text,created_at,sentiment\n";
  int n = 0;
  for (const char* file : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
    std::ifstream in(kSharedData + "/sentiment_labelled_sentences/" + file);
    ASSERT_TRUE(in) << file;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t tab = line.rfind('\t');
      if (tab == std::string::npos) continue;
      std::string sentence = line.substr(0, tab);
      std::string quoted = "\"";
      for (char c : sentence) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      quoted += "\"";
      csv += common::StrCat("r", n, ",u", n % 97, ",i", n % 13, ",", quoted, ",2024-01-01,",
                            line.substr(tab + 1) == "1" ? "positive" : "negative", "\n");
      ++n;
    }
  }
  auto r = ImportCsv(t.db(), "reviews", t.Write("reviews.csv", csv));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, n);
  EXPECT_GE(n, 2700);
  EXPECT_EQ(Col(*r, "text")->type, LogicalType::kText);
  EXPECT_EQ(Col(*r, "sentiment")->type, LogicalType::kCategorical);
  auto pos = Select(t.db(), "SELECT COUNT(*) FROM \"reviews\" WHERE \"sentiment\" = ?", {std::string("positive")});
  EXPECT_GT(pos[0].Int(0), n / 3);
}

}  // namespace
}  // namespace tsml::data
