#include "auth/principal.h"

#include "common/strings.h"
#include "common/object_id.h"

namespace tsml::auth {

absl::StatusOr<Principal> PrincipalFromClaims(const JwtClaims& claims) {
  if (!common::IsValidObjectId(claims.sub)) {
    return absl::UnauthenticatedError("token subject must be a 24-hex user id");
  }
  Principal p;
  p.user_id = common::ToLower(claims.sub);
  p.role = claims.role;
  for (const auto& perm : claims.permissions) p.permissions.insert(perm);
  return p;
}

absl::Status RequireAdminPrivilege(const Principal& p, std::string_view privilege) {
  if (!p.IsAdminRole()) return absl::PermissionDeniedError("an admin role is required");
  if (!p.Has(privilege)) {
    return absl::PermissionDeniedError(common::StrCat("missing privilege ", privilege));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> BearerToken(std::string_view header) {
  if (header.empty()) return absl::UnauthenticatedError("missing bearer token");
  header = common::StripWhitespace(header);
  if (header.size() < 7 || !common::EqualsIgnoreCase(header.substr(0, 7), "bearer ")) {
    return absl::UnauthenticatedError("authorization must use the Bearer scheme");
  }
  std::string_view token = common::StripWhitespace(header.substr(7));
  if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
  return token;
}

}  // namespace tsml::auth
