#include "support/test_db.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>

#include "common/strings.h"
#include "store/sql.h"

namespace tsml::test {

absl::StatusOr<ScopedTestDatabase> ScopedTestDatabase::Create(const std::string& backend,
                                                              const std::string& dir) {
  ScopedTestDatabase db;
  if (backend == "sqlite") {
    db.url_ = "sqlite://" + dir + "/store.db";
    return db;
  }
  const char* base = std::getenv("TSML_TEST_PG_URL");
  if (base == nullptr || *base == '\0') {
    return absl::FailedPreconditionError(
        "TSML_TEST_PG_URL is not set; run `export TSML_TEST_PG_URL=$(scripts/start_postgres.sh)`");
  }
  static std::atomic<int> counter{0};
  std::random_device rd;
  db.schema_ = common::StrCat("t_", ::getpid(), "_", counter++, "_", rd() % 100000);
  db.admin_url_ = base;
  auto admin = store::OpenDatabase(db.admin_url_, {1, 5000});
  if (!admin.ok()) return admin.status();
  auto s = (*admin)->Run([&](store::SqlConnection& c) {
    return c.ExecScript("CREATE SCHEMA " + db.schema_);
  });
  if (!s.ok()) return s;
  const std::string sep = std::string(base).find('?') == std::string::npos ? "?" : "&";
  db.url_ = common::StrCat(base, sep, "options=-csearch_path%3D", db.schema_);
  return db;
}

ScopedTestDatabase::~ScopedTestDatabase() {
  if (schema_.empty()) return;
  auto admin = store::OpenDatabase(admin_url_, {1, 5000});
  if (!admin.ok()) return;
  (void)(*admin)->Run([&](store::SqlConnection& c) {
    return c.ExecScript("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
  });
}

}  // namespace tsml::test
