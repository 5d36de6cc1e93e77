// Helpers for the data tests: a temporary folder with a SQLite database, file writing.
#ifndef TSML_TESTS_UNIT_DATA_TEST_UTIL_H_
#define TSML_TESTS_UNIT_DATA_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "store/sql.h"

namespace tsml::data::testing {

class TempDb {
 public:
  TempDb() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tsml_data_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    auto db = store::OpenDatabase("sqlite://" + dir_ + "/data.db");
    if (db.ok()) db_ = *std::move(db);
  }
  ~TempDb() {
    db_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  store::Database& db() { return *db_; }
  const std::string& dir() const { return dir_; }
  std::string Write(const std::string& name, const std::string& contents) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

 private:
  std::string dir_;
  std::unique_ptr<store::Database> db_;
};

inline store::SqlRows Select(store::Database& db, const std::string& sql,
                             const std::vector<store::SqlValue>& params = {}) {
  store::SqlRows rows;
  absl::Status s = db.Run([&](store::SqlConnection& c) -> absl::Status {
    auto r = c.Query(sql, params);
    if (!r.ok()) return r.status();
    rows = *std::move(r);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << sql << ": " << s;
  return rows;
}

inline int64_t Count(store::Database& db, const std::string& table) {
  auto rows = Select(db, "SELECT COUNT(*) FROM " + table);
  return rows.empty() ? -1 : rows[0].Int(0);
}

}  // namespace tsml::data::testing

#endif  // TSML_TESTS_UNIT_DATA_TEST_UTIL_H_
