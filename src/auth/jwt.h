// JSON Web Token verification and minting (CONTRACT §3).
//
// Verification accepts exactly the configured algorithms: HS256 with the shared secret, and
// RS256/ES256 when a PEM public key is configured. `alg: none`, any other algorithm, and
// algorithm confusion (an HS256 token "signed" with the public key text) are refused.
// `exp` and `nbf` are checked with a leeway; `iss`/`aud` when configured.
#ifndef TSML_AUTH_JWT_H_
#define TSML_AUTH_JWT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace tsml::auth {

struct JwtClaims {
  std::string sub;
  std::string role;
  std::vector<std::string> permissions;
  std::optional<int64_t> exp;  // seconds since epoch
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
  std::string iss;
};

struct JwtVerifierOptions {
  std::string hs256_secret;        // empty: HS256 not accepted
  std::string public_key_pem;      // empty: RS256/ES256 not accepted
  std::string issuer;              // empty: not checked
  std::string audience;            // empty: not checked
  int64_t leeway_seconds = 30;
};

// Thread-safe after construction.
class JwtVerifier {
 public:
  virtual ~JwtVerifier() = default;
  // Unauthenticated (with a short reason that names no secret) for any bad token.
  virtual absl::StatusOr<JwtClaims> Verify(std::string_view token) const = 0;
};

// InvalidArgument when neither a secret nor a usable public key is given, or the key
// cannot be parsed.
absl::StatusOr<std::unique_ptr<JwtVerifier>> MakeJwtVerifier(JwtVerifierOptions options,
                                                             const common::Clock* clock);

// Mints an HS256 token with sub, role, permissions, iat, exp = now + ttl (and iss/aud when
// non-empty).
std::string MintHs256(std::string_view secret, const JwtClaims& claims, int64_t ttl_seconds,
                      const common::Clock& clock, std::string_view audience = "");

}  // namespace tsml::auth

#endif  // TSML_AUTH_JWT_H_
