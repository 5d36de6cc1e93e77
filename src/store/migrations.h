// Versioned schema migrations, the same SQL for SQLite and PostgreSQL.
#ifndef TSML_STORE_MIGRATIONS_H_
#define TSML_STORE_MIGRATIONS_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "store/sql.h"

namespace tsml::store {

// Applies every migration not yet recorded in `schema_migrations`, each in its own
// transaction (PostgreSQL: under an advisory lock, so concurrent starts are safe).
// Returns the schema version reached.
absl::StatusOr<int> Migrate(Database& db, common::Millis now);

// The newest migration version this binary knows.
int LatestSchemaVersion();

}  // namespace tsml::store

#endif  // TSML_STORE_MIGRATIONS_H_
