// store::Store over a store::Database: the one implementation for SQLite and PostgreSQL.
#ifndef TSML_STORE_SQL_STORES_H_
#define TSML_STORE_SQL_STORES_H_

#include <memory>
#include <string_view>

#include "common/object_id.h"
#include "store/sql.h"
#include "store/store.h"

namespace tsml::store {

// `ids` generates task and record ids; must outlive the store.
std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Database> db, common::IdGenerator* ids);

// Opens the database at `url`, runs the migrations, returns the store.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url,
                                                 common::IdGenerator* ids,
                                                 const common::Clock& clock,
                                                 const DatabaseOptions& options = {});

}  // namespace tsml::store

#endif  // TSML_STORE_SQL_STORES_H_
