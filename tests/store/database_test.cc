// One suite for store::Database, run against every backend: SQLite (a fresh temp file) and
// PostgreSQL (TSML_TEST_PG_URL; the PostgreSQL cases fail when it is unset).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/sql.h"

namespace tsml::store {
namespace {

constexpr char kPgUrlEnv[] = "TSML_TEST_PG_URL";

class DatabaseTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string tmpl = (std::filesystem::temp_directory_path() / "tsml_db_test_XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      temp_dir_ = tmpl;
      url_ = absl::StrCat("sqlite://", temp_dir_, "/sub/test.db");  // parent folder created
    } else {
      const char* url = std::getenv(kPgUrlEnv);
      if (url == nullptr || *url == '\0') {
        GTEST_FAIL() << kPgUrlEnv << " is not set. Start PostgreSQL and set it with\n"
                     << "  export " << kPgUrlEnv << "=$(scripts/start_postgres.sh)";
      }
      url_ = url;
    }
    DatabaseOptions options;
    options.pool_size = 4;
    auto db = OpenDatabase(url_, options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);

    // A table name unique to this test and process, so parallel runs do not collide.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    table_ = absl::StrCat("dbtest_", info->name(), "_", getpid());
    for (char& c : table_) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    Exec(absl::StrCat("DROP TABLE IF EXISTS ", table_));
  }

  void TearDown() override {
    if (db_ != nullptr) Exec(absl::StrCat("DROP TABLE IF EXISTS ", table_));
    db_.reset();
    if (!temp_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(temp_dir_, ec);
    }
  }

  void Exec(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    absl::Status s = db_->Run([&](SqlConnection& c) { return c.Query(sql, params).status(); });
    ASSERT_TRUE(s.ok()) << sql << ": " << s;
  }

  absl::StatusOr<SqlRows> Select(const std::string& sql,
                                 const std::vector<SqlValue>& params = {}) {
    absl::StatusOr<SqlRows> rows;
    absl::Status s = db_->Run([&](SqlConnection& c) {
      rows = c.Query(sql, params);
      return rows.status();
    });
    if (!s.ok()) return s;
    return rows;
  }

  int64_t Count() {
    auto rows = Select(absl::StrCat("SELECT COUNT(*) FROM ", table_));
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  bool IsPostgres() const { return GetParam() == "postgres"; }

  std::string url_;
  std::string temp_dir_;
  std::string table_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, ReportsItsBackend) {
  EXPECT_EQ(db_->backend(), IsPostgres() ? SqlBackend::kPostgres : SqlBackend::kSqlite);
  EXPECT_EQ(db_->SkipLocked(), IsPostgres() ? " FOR UPDATE SKIP LOCKED" : "");
}

TEST_P(DatabaseTest, InsertsAndSelectsEveryValueType) {
  Exec(absl::StrCat("CREATE TABLE ", table_,
                    " (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)"));
  constexpr int64_t kBig = 9007199254740993;  // 2^53 + 1: not representable as a double
  const std::string text = "h\xC3\xA9llo 'quoted' \"double\" ? $1 \\ \n tab\t";
  Exec(absl::StrCat("INSERT INTO ", table_, " (id, i, d, s, n) VALUES (?, ?, ?, ?, ?)"),
       {int64_t{1}, kBig, 0.1, text, std::monostate{}});
  Exec(absl::StrCat("INSERT INTO ", table_, " (id, i, d, s, n) VALUES (?, ?, ?, ?, ?)"),
       {int64_t{2}, int64_t{-42}, -1.5e300, std::string(), std::string("x")});

  auto rows = Select(absl::StrCat("SELECT id, i, d, s, n FROM ", table_, " ORDER BY id"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const SqlRow& r1 = (*rows)[0];
  ASSERT_EQ(r1.size(), 5u);
  EXPECT_EQ(r1.Int(0), 1);
  EXPECT_EQ(r1.Int(1), kBig);
  EXPECT_EQ(r1.Double(2), 0.1);
  EXPECT_EQ(r1.Str(3), text);
  EXPECT_TRUE(r1.IsNull(4));
  EXPECT_EQ(r1.OptStr(4), std::nullopt);
  EXPECT_EQ(r1.OptInt(4), std::nullopt);
  EXPECT_EQ(r1.OptInt(1), kBig);
  // Integer and float columns come back typed on both backends.
  EXPECT_TRUE(std::holds_alternative<int64_t>(r1.Raw(1)));
  EXPECT_TRUE(std::holds_alternative<double>(r1.Raw(2)));

  const SqlRow& r2 = (*rows)[1];
  EXPECT_EQ(r2.Int(1), -42);
  EXPECT_EQ(r2.Double(2), -1.5e300);
  EXPECT_FALSE(r2.IsNull(3));
  EXPECT_EQ(r2.Str(3), "");
  EXPECT_EQ(r2.OptStr(4), "x");

  // A parameter in a WHERE clause, and NULL in a comparison.
  auto by_int = Select(absl::StrCat("SELECT id FROM ", table_, " WHERE i = ?"), {kBig});
  ASSERT_TRUE(by_int.ok()) << by_int.status();
  ASSERT_EQ(by_int->size(), 1u);
  EXPECT_EQ((*by_int)[0].Int(0), 1);
  auto by_null = Select(absl::StrCat("SELECT id FROM ", table_, " WHERE n IS NULL"));
  ASSERT_TRUE(by_null.ok()) << by_null.status();
  ASSERT_EQ(by_null->size(), 1u);
}

TEST_P(DatabaseTest, ReturningGivesTheInsertedRow) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY, s TEXT)"));
  auto rows = Select(absl::StrCat("INSERT INTO ", table_, " (id, s) VALUES (?, ?) RETURNING id, s"),
                     {int64_t{7}, std::string("seven")});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(0), 7);
  EXPECT_EQ((*rows)[0].Str(1), "seven");
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExists) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY, s TEXT NOT NULL UNIQUE)"));
  const std::string insert = absl::StrCat("INSERT INTO ", table_, " (id, s) VALUES (?, ?)");
  Exec(insert, {int64_t{1}, std::string("a")});
  EXPECT_EQ(Select(insert, {int64_t{1}, std::string("b")}).status().code(),
            absl::StatusCode::kAlreadyExists);  // primary key
  EXPECT_EQ(Select(insert, {int64_t{2}, std::string("a")}).status().code(),
            absl::StatusCode::kAlreadyExists);  // unique column
  EXPECT_EQ(Select(insert, {int64_t{3}, std::monostate{}}).status().code(),
            absl::StatusCode::kInvalidArgument);  // NOT NULL
  // ON CONFLICT, in the dialect both accept, is not an error.
  Exec(absl::StrCat(insert, " ON CONFLICT (id) DO NOTHING"), {int64_t{1}, std::string("c")});
  EXPECT_EQ(Count(), 1);
}

TEST_P(DatabaseTest, WrongParameterCountIsInvalidArgument) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  EXPECT_EQ(Select(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (?)"), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(DatabaseTest, BadSqlIsInternalAndLeavesThePoolUsable) {
  for (int i = 0; i < 10; ++i) {  // more than the pool size
    auto bad = Select("SELEC nonsense");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
    EXPECT_FALSE(bad.status().message().empty());
  }
  auto rows = Select("SELECT 1");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].Int(0), 1);
}

TEST_P(DatabaseTest, TransactionCommits) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->Transaction([&](SqlConnection& c) {
    for (int64_t id : {1, 2, 3}) {
      auto r = c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (?)"), {id});
      if (!r.ok()) return r.status();
    }
    // The transaction sees its own writes.
    auto n = c.Query(absl::StrCat("SELECT COUNT(*) FROM ", table_));
    if (!n.ok()) return n.status();
    EXPECT_EQ((*n)[0].Int(0), 3);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Count(), 3);
}

TEST_P(DatabaseTest, TransactionRollsBackWhenFnFails) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->Transaction([&](SqlConnection& c) {
    auto r = c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (?)"), {int64_t{1}});
    if (!r.ok()) return r.status();
    return absl::FailedPreconditionError("changed my mind");
  });
  EXPECT_EQ(s, absl::FailedPreconditionError("changed my mind"));
  EXPECT_EQ(Count(), 0);
}

TEST_P(DatabaseTest, TransactionWithAFailedStatementDoesNotCommit) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  Exec(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (1)"));
  absl::Status s = db_->Transaction([&](SqlConnection& c) {
    (void)c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (2)"));
    (void)c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (1)"));  // ignored error
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(Count(), 1);
}

TEST_P(DatabaseTest, ExceptionInFnIsContained) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->Transaction([&](SqlConnection& c) -> absl::Status {
    (void)c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (1)"));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Count(), 0);
}

TEST_P(DatabaseTest, PlaceholdersInsideQuotesAreLeftAlone) {
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY, s TEXT, t TEXT)"));
  Exec(absl::StrCat("INSERT INTO ", table_,
                    " (id, s, t) VALUES (?, 'what? it''s ?', ?) -- a comment?"),
       {int64_t{1}, std::string("real?")});
  auto rows = Select(absl::StrCat("SELECT s, t, ? FROM ", table_, " WHERE s = 'what? it''s ?'"),
                     {std::string("p")});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Str(0), "what? it's ?");
  EXPECT_EQ((*rows)[0].Str(1), "real?");
  EXPECT_EQ((*rows)[0].Str(2), "p");
}

TEST_P(DatabaseTest, ExecScriptRunsSeveralStatements) {
  ASSERT_TRUE(db_->Run([&](SqlConnection& c) {
                   return c.ExecScript(absl::StrCat(
                       "CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY, s TEXT);\n",
                       "INSERT INTO ", table_, " (id, s) VALUES (1, 'a?');\n",
                       "INSERT INTO ", table_, " (id, s) VALUES (2, 'b');\n"));
                 }).ok());
  EXPECT_EQ(Count(), 2);
  absl::Status bad = db_->Run([&](SqlConnection& c) {
    return c.ExecScript(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (1);"));
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kAlreadyExists) << bad;
}

TEST_P(DatabaseTest, ConcurrentClaimsTakeEachRowOnce) {
  constexpr int kRows = 200;
  constexpr int kThreads = 8;
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY, owner TEXT)"));
  ASSERT_TRUE(db_->Transaction([&](SqlConnection& c) {
                   for (int64_t id = 1; id <= kRows; ++id) {
                     auto r = c.Query(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (?)"),
                                      {id});
                     if (!r.ok()) return r.status();
                   }
                   return absl::OkStatus();
                 }).ok());

  const std::string claim =
      absl::StrCat("UPDATE ", table_, " SET owner = ? WHERE id = (SELECT id FROM ", table_,
                   " WHERE owner IS NULL ORDER BY id LIMIT 1", std::string(db_->SkipLocked()),
                   ") RETURNING id");
  std::vector<std::vector<int64_t>> claimed(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = absl::StrCat("worker-", t);
      while (true) {
        std::optional<int64_t> got;
        absl::Status s = db_->Transaction([&](SqlConnection& c) {
          got.reset();
          auto rows = c.Query(claim, {owner});
          if (!rows.ok()) return rows.status();
          if (!rows->empty()) got = (*rows)[0].Int(0);
          return absl::OkStatus();
        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++errors;
          return;
        }
        if (!got) return;
        claimed[t].push_back(*got);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(errors.load(), 0);

  std::map<int64_t, int> times;
  for (const auto& ids : claimed) {
    for (int64_t id : ids) ++times[id];
  }
  ASSERT_EQ(times.size(), static_cast<size_t>(kRows));
  for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "row " << id;
  EXPECT_EQ(times.begin()->first, 1);
  EXPECT_EQ(times.rbegin()->first, kRows);

  // The database agrees with what the threads saw.
  auto rows = Select(absl::StrCat("SELECT id, owner FROM ", table_, " ORDER BY id"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), static_cast<size_t>(kRows));
  for (int t = 0; t < kThreads; ++t) {
    for (int64_t id : claimed[t]) EXPECT_EQ((*rows)[id - 1].Str(1), absl::StrCat("worker-", t));
  }
}

TEST_P(DatabaseTest, SerializationFailureIsRetried) {
  if (!IsPostgres()) GTEST_SKIP() << "SQLite serializes writers: no serialization failures";
  int attempts = 0;
  absl::Status s = db_->Transaction([&](SqlConnection& c) -> absl::Status {
    if (++attempts == 1) {
      return c.ExecScript(
          "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
    }
    return c.Query("SELECT 1").status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(attempts, 2);
}

TEST_P(DatabaseTest, DataExceptionIsInvalidArgument) {
  if (!IsPostgres()) GTEST_SKIP() << "SQLite stores any value in any column (type affinity)";
  Exec(absl::StrCat("CREATE TABLE ", table_, " (id BIGINT PRIMARY KEY)"));
  EXPECT_EQ(Select(absl::StrCat("INSERT INTO ", table_, " (id) VALUES (?)"),
                   {std::string("not a number")})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(DatabaseTest, BrokenConnectionIsUnavailableAndReplaced) {
  if (!IsPostgres()) GTEST_SKIP() << "SQLite has no server connection to lose";
  DatabaseOptions options;
  options.pool_size = 1;  // the next call must reuse the slot of the broken connection
  auto db = OpenDatabase(url_, options);
  ASSERT_TRUE(db.ok()) << db.status();
  auto killed = (*db)->Run([](SqlConnection& c) {
    return c.Query("SELECT pg_terminate_backend(pg_backend_pid())").status();
  });
  EXPECT_EQ(killed.code(), absl::StatusCode::kUnavailable) << killed;
  absl::Status again = (*db)->Run([](SqlConnection& c) { return c.Query("SELECT 1").status(); });
  EXPECT_TRUE(again.ok()) << again;
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(OpenDatabaseTest, UnreachablePostgresIsUnavailableWithoutPassword) {
  auto db = OpenDatabase("postgresql://nobody:pw@127.0.0.1:1/x");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable) << db.status();
  EXPECT_EQ(db.status().message().find("pw"), std::string_view::npos) << db.status();
}

TEST(OpenDatabaseTest, UnknownSchemeIsInvalidArgument) {
  EXPECT_EQ(OpenDatabase("mysql://x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tsml::store
