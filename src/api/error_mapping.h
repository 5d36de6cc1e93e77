// The one place that knows HTTP status codes: absl::Status → HTTP + CONTRACT §5 body.
#ifndef TSML_API_ERROR_MAPPING_H_
#define TSML_API_ERROR_MAPPING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "api/http_types.h"
#include "common/errors.h"

namespace tsml::api {

// {"error": {"code", "message", "details"?, "requestId"?}}
HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message,
                           const std::vector<common::FieldError>& details = {},
                           std::string_view request_id = "");

// Maps a non-OK status; Internal and unknown codes become 500 INTERNAL with the request id
// and without the internal message.
HttpResponse StatusToResponse(const absl::Status& status, std::string_view request_id);

// 405 with an Allow header.
HttpResponse MethodNotAllowed(const std::string& allow);

}  // namespace tsml::api

#endif  // TSML_API_ERROR_MAPPING_H_
