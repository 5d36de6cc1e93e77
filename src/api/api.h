// The HTTP API: routes, authentication, the spec's check order, audit and request metrics.
// Handlers stay thin: parse → authenticate → call a service use case → serialize.
#ifndef TSML_API_API_H_
#define TSML_API_API_H_

#include <functional>
#include <shared_mutex>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/http_types.h"
#include "api/router.h"
#include "auth/jwt.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "data/catalog.h"
#include "monitor/http_metrics.h"
#include "service/deployment_service.h"
#include "service/export_service.h"
#include "service/job_service.h"
#include "store/store.h"

namespace tsml::api {

struct ApiDeps {
  const auth::JwtVerifier* verifier = nullptr;
  store::Store* store = nullptr;
  service::JobService* jobs = nullptr;
  service::DeploymentService* deployments = nullptr;
  service::ExportService* exports = nullptr;
  monitor::HttpMetrics* metrics = nullptr;
  const common::Clock* clock = nullptr;
  data::DataCatalog* catalog = nullptr;  // GET /api/ml/data/sources
  // Extra Prometheus text appended to /metrics (e.g. worker gauges); may be empty.
  std::function<std::string()> extra_metrics;
};

// What a route handler sees.
struct RouteContext {
  HttpRequest& request;
  std::map<std::string, std::string> params;
  const auth::Principal* principal = nullptr;  // set for authenticated routes
  Json body;                                   // parsed JSON body for routes that take one
  std::string resource_id;                     // for the audit log
};

// A handler returns the response, or a status that error_mapping turns into one.
using RouteHandler = std::function<absl::StatusOr<HttpResponse>(RouteContext&)>;

struct RouteSpec {
  std::string method;
  std::string pattern;
  std::string action;          // audit/metrics name, e.g. "training.initiate"
  std::string privilege;       // empty: no authentication (health, metrics, docs)
  bool json_body = false;      // requires a JSON object body
  RouteHandler handler;
  bool json_array_ok = false;  // the JSON body may also be an array
  bool audit = true;           // mutating calls are audited (not the prediction hot path)
};

class Api {
 public:
  explicit Api(ApiDeps deps);
  // Adds a route (later issues add theirs through this).
  void AddRoute(RouteSpec spec);
  // The server's handler.
  HttpResponse Handle(HttpRequest& request);

 private:
  void AddCoreRoutes();
  void AddDeploymentRoutes();
  void AddExportRoutes();
  HttpResponse Dispatch(HttpRequest& request, std::string* route_name,
                        const auth::Principal** principal_out, auth::Principal* principal_buf,
                        std::string* resource_id);
  void Audit(const HttpRequest& request, const std::string& action,
             const auth::Principal* principal, const std::string& resource_id, int status,
             const std::string& detail);

  // Verified tokens, so that repeated calls (service-to-service prediction traffic) skip the
  // signature check; entries expire with their token and the cache is bounded.
  absl::StatusOr<auth::Principal> Authenticate(std::string_view token);
  struct CachedToken {
    auth::Principal principal;
    int64_t exp_ms = 0;
  };
  // Looked up by the request's string_view: no key copy per request.
  struct TokenHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::shared_mutex token_mu_;
  std::unordered_map<std::string, CachedToken, TokenHash, std::equal_to<>> token_cache_;

  ApiDeps deps_;
  Router router_;
  std::vector<RouteSpec> routes_;
};

// JSON response helper.
HttpResponse JsonResponse(int status, const Json& body);

}  // namespace tsml::api

#endif  // TSML_API_API_H_
