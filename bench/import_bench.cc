// Times `tsml import` into SQLite: writes a 20-column CSV of N rows (default 500000) to /tmp
// and prints {"rows", "seconds", "rowsPerSecond", ...} as JSON. Usage: import_bench [N]
#include "bench_util.h"
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "data/csv_import.h"
#include "store/sql.h"

int main(int argc, char** argv) {
  long rows = 500000;
  std::string results = "bench/results.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      results = argv[++i];
    } else if (a == "--rows" && i + 1 < argc) {
      rows = std::atol(argv[++i]);
    } else if (std::atol(argv[i]) > 0) {
      rows = std::atol(argv[i]);
    }
  }
  const std::string dir = "/tmp/tsml_import_bench_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string csv = dir + "/bookings.csv";
  {
    std::FILE* f = std::fopen(csv.c_str(), "w");
    if (f == nullptr) return 1;
    std::fputs("booking_id,user_id,item_id,created_at,lead_time,nights,guests,price,amount,"
               "deposit_type,channel,country,tier,prev_cancel,requests,is_canceled,rating,"
               "discount,notes,checkin\n", f);
    static const char* kChannels[] = {"direct", "ota", "agent", "corporate"};
    static const char* kCountries[] = {"US", "FR", "DE", "GB", "ES", "IT"};
    unsigned s = 12345;
    auto next = [&s] { return s = s * 1103515245u + 12345u, (s >> 8) & 0xffff; };
    for (long i = 0; i < rows; ++i) {
      const unsigned r = next();
      std::fprintf(f,
                   "b%ld,u%u,hotel_%u,2024-%02u-%02uT%02u:%02u:00Z,%u,%u,%u,%.2f,%.2f,%s,%s,%s,"
                   "%s,%u,%u,%u,%.1f,%s,\"%s, note %u\",2024-%02u-%02u\n",
                   i, r % 5000, r % 300, 1 + r % 12, 1 + r % 28, r % 24, r % 60, r % 200,
                   1 + r % 7, 1 + r % 4, 50 + (r % 20000) / 100.0, (r % 90000) / 10.0,
                   r % 3 ? "no_deposit" : "refundable", kChannels[r % 4], kCountries[r % 6],
                   r % 2 ? "gold" : "none", r % 3, r % 4, r % 2, 1 + (r % 50) / 10.0,
                   r % 5 ? "" : "NULL", r % 7 ? "quiet" : "late", r, 1 + (r >> 3) % 12,
                   1 + (r >> 5) % 28);
    }
    std::fclose(f);
  }
  auto db = tsml::store::OpenDatabase("sqlite://" + dir + "/data.db");
  if (!db.ok()) {
    std::cerr << db.status() << "\n";
    return 1;
  }
  tsml::data::ImportOptions options;
  options.replace = true;
  auto report = tsml::data::ImportCsv(**db, "bookings", csv, options);
  if (!report.ok()) {
    std::cerr << report.status() << "\n";
    return 1;
  }
  tsml::Json out = {{"benchmark", "import_csv_sqlite"},
                    {"rows", report->rows},
                    {"columns", report->columns.size()},
                    {"fileBytes", std::filesystem::file_size(csv)},
                    {"seconds", report->seconds},
                    {"rowsPerSecond", report->rows / report->seconds}};
  std::cout << out.dump() << "\n";
  tsml::bench::MergeResult(results, "csvImport", out);
  db->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
