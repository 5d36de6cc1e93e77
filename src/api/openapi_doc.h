// The OpenAPI 3.1 document (docs/openapi.json), embedded at build time.
#ifndef TSML_API_OPENAPI_DOC_H_
#define TSML_API_OPENAPI_DOC_H_

#include <string_view>

namespace tsml::api {
std::string_view OpenApiDocument();
}  // namespace tsml::api

#endif  // TSML_API_OPENAPI_DOC_H_
