// `tsml seed-demo`: a synthetic TravelSense data set with documented, planted signal for every
// default model type (see docs/demo-data.md). The same options give the same rows.
#ifndef TSML_DATA_DEMO_DATA_H_
#define TSML_DATA_DEMO_DATA_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "store/sql.h"

namespace tsml::data {

struct DemoOptions {
  // Number of user_events rows; the other sources scale with it (users = events / 20,
  // bookings = events / 5, reviews = events / 16, trips = events / 10; at least a few hundred
  // each). The default trains every model type in well under a minute.
  int64_t events = 100000;
  uint64_t seed = 42;
};

struct DemoReport {
  std::map<std::string, int64_t> rows;  // per source
  double seconds = 0;
  Json ToJson() const;
};

// Replaces all six sources (in one transaction) with generated data.
absl::StatusOr<DemoReport> SeedDemo(store::Database& db, const DemoOptions& options = {});

}  // namespace tsml::data

#endif  // TSML_DATA_DEMO_DATA_H_
