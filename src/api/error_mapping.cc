#include "api/error_mapping.h"

#include "common/json_util.h"

namespace tsml::api {

HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                           const std::vector<common::FieldError>& details,
                           std::string_view request_id) {
  Json err = {{"code", code}, {"message", message}};
  if (!details.empty()) {
    Json d = Json::array();
    for (const auto& f : details) d.push_back({{"field", f.field}, {"message", f.message}});
    err["details"] = std::move(d);
  }
  if (!request_id.empty()) err["requestId"] = request_id;
  HttpResponse r;
  r.status = http_status;
  r.body = common::DumpJson(Json{{"error", std::move(err)}});
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

HttpResponse StatusToResponse(const absl::Status& status, std::string_view request_id) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return ErrorResponse(400, common::IsInvalidIdError(status) ? "INVALID_ID"
                                                                 : "VALIDATION_ERROR",
                           message, common::FieldErrorsOf(status));
    case absl::StatusCode::kUnauthenticated:
      return ErrorResponse(401, "UNAUTHORIZED", message);
    case absl::StatusCode::kPermissionDenied:
      return ErrorResponse(403, "FORBIDDEN", message);
    case absl::StatusCode::kNotFound:
      return ErrorResponse(404, "NOT_FOUND", message);
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return ErrorResponse(409, "CONFLICT", message);
    case absl::StatusCode::kResourceExhausted:
      return ErrorResponse(413, "PAYLOAD_TOO_LARGE", message);
    case absl::StatusCode::kUnavailable:
      return ErrorResponse(503, "UNAVAILABLE", "a backing service is unavailable; retry later",
                           {}, request_id);
    default:
      return ErrorResponse(500, "INTERNAL", "internal error", {}, request_id);
  }
}

HttpResponse MethodNotAllowed(const std::string& allow) {
  HttpResponse r = ErrorResponse(405, "METHOD_NOT_ALLOWED", "method not allowed for this path");
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace tsml::api
