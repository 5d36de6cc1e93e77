// Early-return helpers for absl::Status / absl::StatusOr.
#ifndef TSML_COMMON_STATUS_MACROS_H_
#define TSML_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TSML_CONCAT_INNER_(a, b) a##b
#define TSML_CONCAT_(a, b) TSML_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status tsml_status_ = (expr);              \
    if (!tsml_status_.ok()) return tsml_status_;       \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F())` assigns the value of a StatusOr or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(TSML_CONCAT_(tsml_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // TSML_COMMON_STATUS_MACROS_H_
