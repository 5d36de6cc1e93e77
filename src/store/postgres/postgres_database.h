// PostgreSQL backend of store::Database (libpqxx), with a connection pool.
#ifndef TSML_STORE_POSTGRES_POSTGRES_DATABASE_H_
#define TSML_STORE_POSTGRES_POSTGRES_DATABASE_H_

#include <memory>
#include <string>

#include "store/sql.h"

namespace tsml::store {

// `url` is "postgresql://USER[:PW]@HOST[:PORT]/DB" (or "postgres://"). Unavailable when the
// server cannot be reached; the password never appears in an error message.
absl::StatusOr<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                              const DatabaseOptions& options);

}  // namespace tsml::store

#endif  // TSML_STORE_POSTGRES_POSTGRES_DATABASE_H_
