#include "common/errors.h"

#include "absl/strings/cord.h"
#include "common/strings.h"
#include "common/json_util.h"

namespace tsml::common {
namespace {
constexpr char kDetailsUrl[] = "tsml/details";
constexpr char kInvalidIdUrl[] = "tsml/invalid-id";
}  // namespace

absl::Status ValidationErrors::ToStatus() const {
  return errors_.empty() ? absl::OkStatus() : ValidationError(errors_);
}

absl::Status ValidationError(const std::vector<FieldError>& errors) {
  const std::string message = errors.size() == 1
                                  ? common::StrCat(errors[0].field, ": ", errors[0].message)
                                  : common::StrCat(errors.size(), " fields are invalid");
  absl::Status status = absl::InvalidArgumentError(message);
  Json details = Json::array();
  for (const auto& e : errors) details.push_back({{"field", e.field}, {"message", e.message}});
  status.SetPayload(kDetailsUrl, absl::Cord(DumpJson(details)));
  return status;
}

absl::Status ValidationError(std::string field, std::string message) {
  return ValidationError(std::vector<FieldError>{{std::move(field), std::move(message)}});
}

absl::Status InvalidIdError(const std::string& field) {
  absl::Status status = ValidationError(field, "must be a 24-character hexadecimal id");
  status.SetPayload(kInvalidIdUrl, absl::Cord("1"));
  return status;
}

std::vector<FieldError> FieldErrorsOf(const absl::Status& status) {
  std::vector<FieldError> out;
  auto payload = status.GetPayload(kDetailsUrl);
  if (!payload) return out;
  auto parsed = ParseJson(std::string(*payload));
  if (!parsed.ok() || !parsed->is_array()) return out;
  for (const auto& d : *parsed) {
    out.push_back({d.value("field", std::string()), d.value("message", std::string())});
  }
  return out;
}

bool IsInvalidIdError(const absl::Status& status) {
  return status.GetPayload(kInvalidIdUrl).has_value();
}

}  // namespace tsml::common
