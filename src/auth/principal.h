// Who is calling, and what they may do (CONTRACT §3).
#ifndef TSML_AUTH_PRINCIPAL_H_
#define TSML_AUTH_PRINCIPAL_H_

#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/jwt.h"

namespace tsml::auth {

inline constexpr std::string_view kPrivTrain = "ml:train";
inline constexpr std::string_view kPrivDeploy = "ml:deploy";
inline constexpr std::string_view kPrivMonitor = "ml:monitor";
inline constexpr std::string_view kPrivExport = "ml:export";
inline constexpr std::string_view kPrivPredict = "ml:predict";
inline constexpr std::string_view kPrivAdmin = "ml:admin";

struct Principal {
  std::string user_id;
  std::string role;
  std::set<std::string, std::less<>> permissions;

  bool Has(std::string_view permission) const { return permissions.count(permission) > 0; }
  bool IsAdminRole() const { return role == "admin"; }
  // The creator of a resource, or a holder of ml:admin.
  bool CanAccess(std::string_view owner) const { return owner == user_id || Has(kPrivAdmin); }
};

// Builds a principal from verified claims. Unauthenticated when `sub` is not a 24-hex id.
absl::StatusOr<Principal> PrincipalFromClaims(const JwtClaims& claims);

// PermissionDenied unless the principal has the admin role and `privilege`.
absl::Status RequireAdminPrivilege(const Principal& p, std::string_view privilege);

// Extracts the token from "Bearer <token>". Unauthenticated when absent or malformed.
absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header);

}  // namespace tsml::auth

#endif  // TSML_AUTH_PRINCIPAL_H_
