// Prediction throughput and latency over HTTP keep-alive with wrk on loopback (CONTRACT §9):
// one-row and 100-row requests to a deployed churn model, and /healthz as the ceiling of the
// HTTP layer itself. Usage: predict_bench [--seconds 10] [--connections 64] [--out FILE]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench_util.h"
#include "common/logging.h"
#include "common/strings.h"
#include "support/test_server.h"

namespace tsml::bench {
namespace {

// A wrk Lua script: fixed method/body/headers, and a done() that prints JSON percentiles.
std::string WrkScript(const std::string& method, const std::string& body, const std::string& token) {
  std::string escaped;
  for (char c : body) {
    if (c == '\\' || c == '"') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return common::StrCat(
      "wrk.method = \"", method, "\"\n",
      "wrk.body = \"", escaped, "\"\n",
      "wrk.headers[\"Content-Type\"] = \"application/json\"\n",
      "wrk.headers[\"Authorization\"] = \"Bearer ", token, "\"\n",
      "function done(summary, latency, requests)\n",
      "  io.write(string.format('RESULT {\"requests\":%d,\"seconds\":%f,\"errors\":%d,",
      "\"non2xx\":%d,\"p50Ms\":%f,\"p95Ms\":%f,\"p99Ms\":%f,\"meanMs\":%f}\\n',\n",
      "    summary.requests, summary.duration / 1e6, summary.errors.connect + summary.errors.read + "
      "summary.errors.write + summary.errors.timeout, summary.errors.status,\n",
      "    latency:percentile(50) / 1000, latency:percentile(95) / 1000, "
      "latency:percentile(99) / 1000, latency.mean / 1000))\n",
      "end\n");
}

Json RunWrk(const std::string& url, const std::string& script_path, int connections,
            int seconds) {
  const std::string cmd = common::StrCat("wrk -t2 -c", connections, " -d", seconds, "s -s ",
                                         script_path, " ", url, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {{"error", "cannot run wrk"}};
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof(buf), p)) out += buf;
  pclose(p);
  const auto pos = out.find("RESULT ");
  if (pos == std::string::npos) return {{"error", out.substr(0, 500)}};
  auto parsed = common::ParseJson(out.substr(pos + 7, out.find('\n', pos) - pos - 7));
  if (!parsed.ok()) return {{"error", "unparsable wrk output"}};
  Json r = *parsed;
  r["requestsPerSecond"] = r["requests"].get<double>() / r["seconds"].get<double>();
  r["connections"] = connections;
  return r;
}

}  // namespace
}  // namespace tsml::bench

int main(int argc, char** argv) {
  using namespace tsml;
  int seconds = 10, connections = 64;
  std::string out = "bench/results.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--connections")) connections = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (std::system("command -v wrk > /dev/null") != 0) {
    std::cerr << "wrk is not installed (scripts/run_bench.sh installs it)\n";
    return 1;
  }
  common::InitLogging("error");
  test::TestServerOptions o;
  o.real_models = true;
  o.demo_events = 100000;
  test::TestServer server(o);
  const std::string token = test::TestServer::AdminToken(test::kAdminUser, true);
  auto call = [&](const std::string& m, const std::string& t, const std::string& b) {
    return server.Call(m, t, token, b);
  };
  auto job = common::ParseJson(call("POST", "/api/ml/training/initiate",
                                    R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"}})")
                                   .body);
  const std::string job_id = (*job)["jobId"];
  for (int i = 0; i < 600; ++i) {
    auto s = common::ParseJson(call("GET", "/api/ml/training/status/" + job_id, "").body);
    if ((*s)["status"] == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto dep = common::ParseJson(call("POST", "/api/ml/training/deploy/" + job_id,
                                    R"({"deploymentName":"bench","environment":"staging"})")
                                   .body);
  const std::string dep_id = (*dep)["deploymentId"];
  for (int i = 0; i < 100; ++i) {
    auto s = common::ParseJson(call("GET", "/api/ml/deployment/status/" + dep_id, "").body);
    if ((*s)["status"] == "active") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string row =
      R"({"country":"FR","age":41,"loyalty_tier":"gold","signup_channel":"referral","device":"mobile","newsletter_opt_in":1,"days_since_last_login":12,"sessions_last_30d":6,"avg_session_minutes":9.5,"total_spend":820.0,"support_tickets":1})";
  std::string hundred = R"({"instances":[)";
  for (int i = 0; i < 100; ++i) hundred += (i ? "," : "") + row;
  hundred += "]}";
  const std::string one = R"({"instances":[)" + row + "]}";
  test::TempDir dir;
  const std::string base = common::StrCat("http://127.0.0.1:", server.port());
  auto script = [&](const std::string& name, const std::string& method, const std::string& body) {
    const std::string path = dir.path() + "/" + name + ".lua";
    std::ofstream(path) << bench::WrkScript(method, body, token);
    return path;
  };
  Json results = Json::object();
  results["healthz"] = bench::RunWrk(base + "/healthz", script("healthz", "GET", ""), connections, seconds);
  results["predictOneRow"] = bench::RunWrk(base + "/api/ml/predict/" + dep_id,
                                           script("one", "POST", one), connections, seconds);
  Json hundred_r = bench::RunWrk(base + "/api/ml/predict/" + dep_id,
                                 script("hundred", "POST", hundred), connections, seconds);
  if (hundred_r.contains("requestsPerSecond")) {
    hundred_r["rowsPerSecond"] = hundred_r["requestsPerSecond"].get<double>() * 100;
  }
  results["predictHundredRows"] = hundred_r;
  if (results["healthz"].contains("requestsPerSecond") &&
      results["predictOneRow"].contains("requestsPerSecond")) {
    results["oneRowShareOfHealthz"] = results["predictOneRow"]["requestsPerSecond"].get<double>() /
                                      results["healthz"]["requestsPerSecond"].get<double>();
  }
  results["targets"] = {{"oneRowRequestsPerSecond", ">= 10000"}, {"oneRowP99Ms", "< 10"},
                        {"oneRowShareOfHealthz", ">= 0.33"}, {"hundredRowRowsPerSecond", ">= 200000"}};
  bench::MergeResult(out, "prediction", results);
  for (const char* k : {"healthz", "predictOneRow", "predictHundredRows"}) {
    const Json& r = results[k];
    std::printf("%-20s %10.0f req/s  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  non-2xx %lld\n", k,
                r.value("requestsPerSecond", 0.0), r.value("p50Ms", 0.0), r.value("p95Ms", 0.0),
                r.value("p99Ms", 0.0), static_cast<long long>(r.value("non2xx", 0)));
  }
  std::printf("100-row requests: %.0f rows/s\n", results["predictHundredRows"].value("rowsPerSecond", 0.0));
  return 0;
}
