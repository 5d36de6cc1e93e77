// SQLite backend of store::Database: WAL, busy timeout, foreign keys, a connection pool.
#ifndef TSML_STORE_SQLITE_SQLITE_DATABASE_H_
#define TSML_STORE_SQLITE_SQLITE_DATABASE_H_

#include <memory>
#include <string>

#include "store/sql.h"

namespace tsml::store {

// `path` is a file path; its parent folder is created. Unavailable when it cannot be opened.
absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                            const DatabaseOptions& options);

}  // namespace tsml::store

#endif  // TSML_STORE_SQLITE_SQLITE_DATABASE_H_
