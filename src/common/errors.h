// Error vocabulary shared by services and the API: canonical absl codes plus, for
// validation failures, the list of invalid fields (CONTRACT §5) carried as a payload.
#ifndef TSML_COMMON_ERRORS_H_
#define TSML_COMMON_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tsml::common {

struct FieldError {
  std::string field;
  std::string message;
};

// Collects field errors; `ToStatus()` is OK when none were added.
class ValidationErrors {
 public:
  void Add(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }
  bool empty() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  absl::Status ToStatus() const;

 private:
  std::vector<FieldError> errors_;
};

// InvalidArgument carrying the field list; message "N fields are invalid" or the one message.
absl::Status ValidationError(const std::vector<FieldError>& errors);
absl::Status ValidationError(std::string field, std::string message);

// InvalidArgument tagged as INVALID_ID: a path id that is not a 24-hex ObjectId.
absl::Status InvalidIdError(const std::string& field);

// Readers for the API's error mapping.
std::vector<FieldError> FieldErrorsOf(const absl::Status& status);
bool IsInvalidIdError(const absl::Status& status);

}  // namespace tsml::common

#endif  // TSML_COMMON_ERRORS_H_
