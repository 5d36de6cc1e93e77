#include "api/api.h"

#include <chrono>

#include "common/strings.h"
#include "api/error_mapping.h"
#include "api/openapi_doc.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/object_id.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "service/validation.h"

namespace tsml::api {
namespace {

using common::FormatIso8601;

bool IsJsonContentType(std::string_view ct) {
  const auto semi = ct.find(';');
  std::string base = common::ToLower(common::StripWhitespace(ct.substr(0, semi)));
  return base == "application/json" || common::EndsWith(base, "+json");
}

}  // namespace

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.body = common::DumpJson(body);
  return r;
}

Api::Api(ApiDeps deps) : deps_(std::move(deps)) { AddCoreRoutes(); }

void Api::AddRoute(RouteSpec spec) {
  router_.Add(spec.method, spec.pattern);
  routes_.push_back(std::move(spec));
}

HttpResponse Api::Handle(HttpRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  std::string route = "unmatched";
  auth::Principal principal_buf;
  const auth::Principal* principal = nullptr;
  std::string resource_id;
  HttpResponse response;
  try {
    response = Dispatch(request, &route, &principal, &principal_buf, &resource_id);
  } catch (const std::exception& e) {
    common::LogError("handler threw", {{"requestId", request.request_id}, {"error", e.what()}});
    response = ErrorResponse(500, "INTERNAL", "internal error", {}, request.request_id);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (deps_.metrics) deps_.metrics->Record(route, request.method, response.status, seconds);
  if (response.status >= 500) {
    common::LogError("request failed", {{"requestId", request.request_id},
                                        {"method", request.method},
                                        {"route", route},
                                        {"status", response.status}});
  } else {
    common::LogDebug("request", {{"requestId", request.request_id},
                                 {"method", request.method},
                                 {"route", route},
                                 {"status", response.status},
                                 {"ms", seconds * 1000}});
  }
  return response;
}

HttpResponse Api::Dispatch(HttpRequest& request, std::string* route_name,
                           const auth::Principal** principal_out,
                           auth::Principal* principal_buf, std::string* resource_id) {
  RouteMatch match = router_.Match(request.method, request.path);
  if (match.kind == RouteMatch::Kind::kNotFound) {
    return ErrorResponse(404, "NOT_FOUND", "no such endpoint: " + request.method + " " +
                                               request.path.substr(0, 200));
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) return MethodNotAllowed(match.allow);
  const RouteSpec& spec = routes_[match.route_index];
  *route_name = spec.pattern;
  for (const auto& [k, v] : match.params) {
    if (common::EndsWith(k, "Id")) *resource_id = v.substr(0, 64);
  }
  RouteContext ctx{request, std::move(match.params)};

  auto finish = [&](HttpResponse r, const std::string& detail = "") {
    const bool mutating = request.method != "GET";
    if (!spec.privilege.empty() &&
        ((mutating && spec.audit) || r.status == 401 || r.status == 403)) {
      Audit(request, spec.action, *principal_out, ctx.resource_id.empty() ? *resource_id
                                                                          : ctx.resource_id,
            r.status, detail);
    }
    return r;
  };

  if (!spec.privilege.empty()) {
    // 401: who is calling?
    auto token = auth::BearerToken(request.Header("authorization"));
    absl::StatusOr<auth::Principal> principal =
        token.ok() ? Authenticate(*token) : absl::StatusOr<auth::Principal>(token.status());
    if (!principal.ok()) {
      return finish(StatusToResponse(principal.status(), request.request_id),
                    std::string(principal.status().message()));
    }
    *principal_buf = *std::move(principal);
    *principal_out = principal_buf;
    ctx.principal = principal_buf;
    // 403: may they use this endpoint at all?
    absl::Status allowed = spec.privilege == auth::kPrivPredict
                               ? (principal_buf->Has(auth::kPrivPredict) ||
                                          principal_buf->Has(auth::kPrivDeploy)
                                      ? absl::OkStatus()
                                      : absl::PermissionDeniedError("missing privilege ml:predict"))
                               : auth::RequireAdminPrivilege(*principal_buf, spec.privilege);
    if (!allowed.ok()) {
      return finish(StatusToResponse(allowed, request.request_id),
                    std::string(allowed.message()));
    }
  }
  if (spec.json_body) {
    const std::string& ct = request.Header("content-type");
    if (!ct.empty() && !IsJsonContentType(ct)) {
      return finish(ErrorResponse(415, "UNSUPPORTED_MEDIA_TYPE",
                                  "the request body must be application/json"));
    }
    if (common::StripWhitespace(request.body).empty()) {
      return finish(StatusToResponse(common::ValidationError("body", "a JSON object is required"),
                                     request.request_id));
    }
    auto parsed = common::ParseJson(request.body);
    if (!parsed.ok()) {
      return finish(StatusToResponse(
          common::ValidationError("body", std::string(parsed.status().message())),
          request.request_id));
    }
    if (!parsed->is_object() && !(spec.json_array_ok && parsed->is_array())) {
      return finish(StatusToResponse(common::ValidationError("body", "must be a JSON object"),
                                     request.request_id));
    }
    ctx.body = *std::move(parsed);
  }
  absl::StatusOr<HttpResponse> result = spec.handler(ctx);
  if (!result.ok()) {
    if (result.status().code() == absl::StatusCode::kInternal ||
        result.status().code() == absl::StatusCode::kUnknown) {
      common::LogError("internal error", {{"requestId", request.request_id},
                                          {"route", spec.pattern},
                                          {"error", std::string(result.status().message())}});
    }
    return finish(StatusToResponse(result.status(), request.request_id),
                  std::string(result.status().message()).substr(0, 300));
  }
  return finish(*std::move(result));
}

absl::StatusOr<auth::Principal> Api::Authenticate(std::string_view token) {
  const int64_t now = deps_.clock->NowMillis();
  {
    std::shared_lock lock(token_mu_);
    auto it = token_cache_.find(token);
    if (it != token_cache_.end() && now < it->second.exp_ms) return it->second.principal;
  }
  ASSIGN_OR_RETURN(auth::JwtClaims claims, deps_.verifier->Verify(token));
  ASSIGN_OR_RETURN(auth::Principal principal, auth::PrincipalFromClaims(claims));
  // Only tokens with an expiry are cached, until it (not-yet-valid ones were refused above).
  if (claims.exp && token.size() < 4096) {
    std::unique_lock lock(token_mu_);
    if (token_cache_.size() >= 4096) token_cache_.clear();
    token_cache_[std::string(token)] = {principal, *claims.exp * 1000};
  }
  return principal;
}

void Api::Audit(const HttpRequest& request, const std::string& action,
                const auth::Principal* principal, const std::string& resource_id, int status,
                const std::string& detail) {
  store::AuditRecord a;
  a.at = deps_.clock->NowMillis();
  a.user_id = principal ? principal->user_id : "";
  a.action = action;
  a.resource_id = resource_id;
  a.status = status;
  a.outcome = status < 400 ? "success" : (status == 401 || status == 403) ? "denied" : "error";
  a.request_id = request.request_id;
  a.remote_address = request.remote_address;
  a.detail = detail;
  if (auto s = deps_.store->AppendAudit(a); !s.ok()) {
    common::LogError("audit write failed",
                     {{"requestId", request.request_id}, {"error", s.ToString()}});
  }
}

void Api::AddCoreRoutes() {
  using service::JobService;
  const std::string train(auth::kPrivTrain);

  AddRoute({"POST", "/api/ml/training/initiate", "training.initiate", train, true,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.jobs->Initiate(*ctx.principal, ctx.body));
              ctx.resource_id = job.id;
              Json body = JobService::ToJson(job);
              HttpResponse r = JsonResponse(202, body);
              r.headers.emplace_back("Location", "/api/ml/training/status/" + job.id);
              return r;
            }});
  AddRoute({"GET", "/api/ml/training/status/:jobId", "training.status", train, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.jobs->Get(*ctx.principal, ctx.params["jobId"]));
              return JsonResponse(200, JobService::ToJson(job));
            }});
  AddRoute({"GET", "/api/ml/training/jobs", "training.list", train, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              store::JobQuery q;
              ASSIGN_OR_RETURN(
                  store::JobPage page,
                  deps_.jobs->List(*ctx.principal,
                                   service::ParseQueryString(ctx.request.query), &q));
              Json jobs = Json::array();
              for (const auto& j : page.jobs) jobs.push_back(JobService::ToJson(j));
              return JsonResponse(
                  200, {{"jobs", std::move(jobs)},
                        {"pagination",
                         {{"total", page.total},
                          {"limit", q.limit},
                          {"offset", q.offset},
                          {"hasMore", q.offset + static_cast<int64_t>(page.jobs.size()) <
                                          page.total}}}});
            }});
  AddRoute({"POST", "/api/ml/training/cancel/:jobId", "training.cancel", train, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.jobs->Cancel(*ctx.principal, ctx.params["jobId"]));
              Json body = JobService::ToJson(job);
              return JsonResponse(200, body);
            }});
  AddRoute({"GET", "/api/ml/training/evaluation/:jobId", "training.evaluation", train, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.jobs->CompletedJob(*ctx.principal, ctx.params["jobId"]));
              Json body = job.evaluation_results;
              body["jobId"] = job.id;
              body["modelType"] = job.model_type;
              body["modelArtifactId"] = job.model_artifact_id ? Json(*job.model_artifact_id) : Json();
              body["completedAt"] = job.completed_at ? Json(FormatIso8601(*job.completed_at)) : Json();
              Json charts = Json::array();
              if (body.contains("visualizations") && body["visualizations"].is_array()) {
                for (const auto& v : body["visualizations"]) {
                  charts.push_back({{"name", v.value("name", "")},
                                    {"title", v.value("title", "")},
                                    {"format", "svg"},
                                    {"url", common::StrCat("/api/ml/training/evaluation/", job.id,
                                                           "/charts/", v.value("name", ""))}});
                }
              }
              body["visualizations"] = charts;
              return JsonResponse(200, body);
            }});
  AddRoute({"GET", "/api/ml/training/evaluation/:jobId/charts/:chart", "training.chart", train,
            false, [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.jobs->CompletedJob(*ctx.principal, ctx.params["jobId"]));
              const std::string& name = ctx.params["chart"];
              const Json& list = job.evaluation_results.contains("visualizations")
                                     ? job.evaluation_results["visualizations"]
                                     : Json::array();
              for (const auto& v : list) {
                if (v.value("name", "") != name) continue;
                ASSIGN_OR_RETURN(std::string svg, common::ReadFile(v.value("file", "")));
                HttpResponse r;
                r.content_type = "image/svg+xml";
                r.body = std::move(svg);
                return r;
              }
              return absl::NotFoundError("no chart named '" + name.substr(0, 64) + "' for this job");
            }});
  AddRoute({"GET", "/api/ml/audit", "audit.list", std::string(auth::kPrivAdmin), false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              common::ValidationErrors errors;
              store::AuditQuery q;
              for (const auto& [k, v] : service::ParseQueryString(ctx.request.query)) {
                if (k == "userId") {
                  if (!common::IsValidObjectId(v)) errors.Add("userId", "must be a 24-hex id");
                  q.user_id = common::ToLower(v);
                } else if (k == "action") {
                  q.action = v;
                } else if (k == "startDate") {
                  q.from = common::ParseIso8601(v);
                  if (!q.from) errors.Add("startDate", "must be an ISO 8601 date");
                } else if (k == "endDate") {
                  q.to = service::ParseEndBound(v);
                  if (!q.to) errors.Add("endDate", "must be an ISO 8601 date");
                } else if (k == "limit") {
                  int n = 0;
                  if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 200) {
                    errors.Add("limit", "must be an integer from 1 to 200");
                  }
                  q.limit = n;
                } else if (k == "offset") {
                  int n = -1;
                  if (!absl::SimpleAtoi(v, &n) || n < 0) {
                    errors.Add("offset", "must be a non-negative integer");
                  }
                  q.offset = n;
                } else {
                  errors.Add(k, "unknown query parameter");
                }
              }
              if (q.from && q.to && *q.to <= *q.from) {
                errors.Add("endDate", "must be after startDate");
              }
              RETURN_IF_ERROR(errors.ToStatus());
              ASSIGN_OR_RETURN(auto page, deps_.store->ListAudit(q));
              Json entries = Json::array();
              for (const auto& a : page.first) {
                entries.push_back({{"id", a.id},
                                   {"at", FormatIso8601(a.at)},
                                   {"userId", a.user_id.empty() ? Json() : Json(a.user_id)},
                                   {"action", a.action},
                                   {"resourceId", a.resource_id},
                                   {"status", a.status},
                                   {"outcome", a.outcome},
                                   {"requestId", a.request_id},
                                   {"remoteAddress", a.remote_address},
                                   {"detail", a.detail}});
              }
              return JsonResponse(
                  200, {{"entries", std::move(entries)},
                        {"pagination",
                         {{"total", page.second},
                          {"limit", q.limit},
                          {"offset", q.offset},
                          {"hasMore", q.offset + static_cast<int64_t>(page.first.size()) <
                                          page.second}}}});
            }});

  AddRoute({"GET", "/api/ml/data/sources", "data.sources", train, false,
            [this](RouteContext&) -> absl::StatusOr<HttpResponse> {
              if (!deps_.catalog) return absl::UnavailableError("no data catalog");
              ASSIGN_OR_RETURN(auto sources, deps_.catalog->ListSources());
              Json out = Json::array();
              for (const auto& s : sources) out.push_back(s.ToJson());
              return JsonResponse(200, {{"sources", std::move(out)}});
            }});

  AddDeploymentRoutes();
  AddExportRoutes();

  // Operability: no authentication.
  AddRoute({"GET", "/healthz", "healthz", "", false,
            [](RouteContext&) -> absl::StatusOr<HttpResponse> {
              return JsonResponse(200, {{"status", "ok"}});
            }});
  AddRoute({"GET", "/readyz", "readyz", "", false,
            [this](RouteContext&) -> absl::StatusOr<HttpResponse> {
              absl::Status s = deps_.store->Ping();
              if (!s.ok()) {
                return JsonResponse(503, {{"status", "unavailable"},
                                          {"store", "unreachable"}});
              }
              return JsonResponse(200, {{"status", "ready"}, {"store", "ok"}});
            }});
  AddRoute({"GET", "/metrics", "metrics", "", false,
            [this](RouteContext&) -> absl::StatusOr<HttpResponse> {
              HttpResponse r;
              r.content_type = "text/plain; version=0.0.4; charset=utf-8";
              r.body = deps_.metrics ? deps_.metrics->Render() : "";
              r.body +=
                  "# HELP tsml_jobs Training jobs by status.\n# TYPE tsml_jobs gauge\n";
              if (auto counts = deps_.store->CountByStatus(); counts.ok()) {
                for (const auto& st : service::JobStatuses()) {
                  auto it = counts->find(st);
                  common::StrAppend(&r.body, "tsml_jobs{status=\"", st, "\"} ",
                                  it == counts->end() ? 0 : it->second, "\n");
                }
              }
              r.body += "# HELP tsml_queue_depth Queued tasks by kind.\n"
                        "# TYPE tsml_queue_depth gauge\n";
              if (auto depth = deps_.store->QueueDepth(); depth.ok()) {
                for (const char* kind : {"train", "deploy", "export"}) {
                  auto it = depth->find(kind);
                  common::StrAppend(&r.body, "tsml_queue_depth{kind=\"", kind, "\"} ",
                                  it == depth->end() ? 0 : it->second, "\n");
                }
              }
              if (deps_.extra_metrics) r.body += deps_.extra_metrics();
              return r;
            }});
  AddRoute({"GET", "/api/ml/openapi.json", "openapi", "", false,
            [](RouteContext&) -> absl::StatusOr<HttpResponse> {
              HttpResponse r;
              r.body = std::string(OpenApiDocument());
              return r;
            }});
}

}  // namespace tsml::api

namespace tsml::api {

void Api::AddDeploymentRoutes() {
  const std::string deploy(auth::kPrivDeploy), monitor(auth::kPrivMonitor),
      train(auth::kPrivTrain), predict(auth::kPrivPredict);
  AddRoute({"POST", "/api/ml/training/deploy/:jobId", "deployment.create", deploy, true,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::DeploymentRecord d,
                               deps_.deployments->Deploy(*ctx.principal, ctx.params["jobId"],
                                                         ctx.body));
              ctx.resource_id = d.id;
              HttpResponse r = JsonResponse(202, deps_.deployments->ToJson(d));
              r.headers.emplace_back("Location", "/api/ml/deployment/status/" + d.id);
              return r;
            }});
  AddRoute({"GET", "/api/ml/deployment/status/:deploymentId", "deployment.status", deploy, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(Json d, deps_.deployments->Status(*ctx.principal,
                                                                 ctx.params["deploymentId"]));
              return JsonResponse(200, d);
            }});
  AddRoute({"POST", "/api/ml/deployment/stop/:deploymentId", "deployment.stop", deploy, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(Json d, deps_.deployments->Stop(*ctx.principal,
                                                               ctx.params["deploymentId"]));
              return JsonResponse(200, d);
            }});
  RouteSpec predict_route{"POST", "/api/ml/predict/:deploymentId", "predict", predict, true,
                          [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
                            ASSIGN_OR_RETURN(Json out, deps_.deployments->Predict(
                                                           ctx.params["deploymentId"], ctx.body));
                            return JsonResponse(200, out);
                          }};
  predict_route.audit = false;
  AddRoute(std::move(predict_route));
  AddRoute({"GET", "/api/ml/monitoring/performance/:deploymentId", "monitoring.performance",
            monitor, false, [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(Json out,
                               deps_.deployments->Performance(
                                   *ctx.principal, ctx.params["deploymentId"],
                                   service::ParseQueryString(ctx.request.query)));
              return JsonResponse(200, out);
            }});
  RouteSpec feedback{"POST", "/api/ml/monitoring/feedback/:deploymentId", "monitoring.feedback",
                     monitor, true, [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
                       ASSIGN_OR_RETURN(Json out,
                                        deps_.deployments->Feedback(
                                            *ctx.principal, ctx.params["deploymentId"], ctx.body));
                       return JsonResponse(200, out);
                     }};
  feedback.json_array_ok = true;
  AddRoute(std::move(feedback));
  AddRoute({"GET", "/api/ml/monitoring/alerts/:deploymentId", "monitoring.alerts", monitor, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(Json out, deps_.deployments->Alerts(*ctx.principal,
                                                                   ctx.params["deploymentId"]));
              return JsonResponse(200, out);
            }});
  AddRoute({"POST", "/api/ml/training/retrain/:deploymentId", "training.retrain", train, true,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::JobRecord job,
                               deps_.deployments->Retrain(*ctx.principal,
                                                          ctx.params["deploymentId"], ctx.body));
              ctx.resource_id = job.id;
              HttpResponse r = JsonResponse(202, service::JobService::ToJson(job));
              r.headers.emplace_back("Location", "/api/ml/training/status/" + job.id);
              return r;
            }});
}

}  // namespace tsml::api

namespace tsml::api {

void Api::AddExportRoutes() {
  const std::string priv(auth::kPrivExport);
  AddRoute({"POST", "/api/ml/training/export/:jobId", "export.create", priv, true,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::ExportRecord e,
                               deps_.exports->Create(*ctx.principal, ctx.params["jobId"], ctx.body));
              ctx.resource_id = e.id;
              HttpResponse r = JsonResponse(200, deps_.exports->ToJson(e));
              r.headers.emplace_back("Location", "/api/ml/exports/" + e.id);
              return r;
            }});
  AddRoute({"GET", "/api/ml/exports/:exportId", "export.status", priv, false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              ASSIGN_OR_RETURN(store::ExportRecord e,
                               deps_.exports->Get(*ctx.principal, ctx.params["exportId"]));
              return JsonResponse(200, deps_.exports->ToJson(e));
            }});
  // Signed link: no token. A tampered or expired link is refused (403).
  AddRoute({"GET", "/api/ml/exports/:exportId/download", "export.download", "", false,
            [this](RouteContext& ctx) -> absl::StatusOr<HttpResponse> {
              std::string expires, signature;
              for (const auto& [k, v] : service::ParseQueryString(ctx.request.query)) {
                if (k == "expires") expires = v;
                if (k == "signature") signature = v;
              }
              ASSIGN_OR_RETURN(store::ExportRecord e,
                               deps_.exports->Download(ctx.params["exportId"], expires, signature));
              ASSIGN_OR_RETURN(std::string bytes, common::ReadFile(e.file_path));
              HttpResponse r;
              r.content_type = "application/zip";
              r.headers.emplace_back("Content-Disposition",
                                     "attachment; filename=\"tsml-" + e.id + "-" + e.format + ".zip\"");
              r.headers.emplace_back("X-Checksum-SHA256", e.checksum);
              r.body = std::move(bytes);
              return r;
            }});
}

}  // namespace tsml::api
