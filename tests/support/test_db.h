// Database URLs for tests that run once per backend. PostgreSQL comes from TSML_TEST_PG_URL
// (`export TSML_TEST_PG_URL=$(scripts/start_postgres.sh)`); each test gets its own schema,
// so tests can run in parallel. A PostgreSQL test fails (never skips) when it is unset.
#ifndef TSML_TESTS_SUPPORT_TEST_DB_H_
#define TSML_TESTS_SUPPORT_TEST_DB_H_

#include <string>

#include "absl/status/statusor.h"

namespace tsml::test {

class ScopedTestDatabase {
 public:
  // `backend` is "sqlite" or "postgres". For sqlite the file lives under `dir`.
  static absl::StatusOr<ScopedTestDatabase> Create(const std::string& backend,
                                                   const std::string& dir);
  ScopedTestDatabase(ScopedTestDatabase&&) = default;
  ScopedTestDatabase& operator=(ScopedTestDatabase&&) = default;
  ~ScopedTestDatabase();

  const std::string& url() const { return url_; }

 private:
  ScopedTestDatabase() = default;
  std::string url_;
  std::string admin_url_;  // postgres: to drop the schema afterwards
  std::string schema_;
};

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_TEST_DB_H_
