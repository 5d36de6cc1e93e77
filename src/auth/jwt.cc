#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tsml::auth {
namespace {

using Json = nlohmann::json;

// A JWT travels in an HTTP header; anything this large is not one of ours and is refused
// before any decoding or parsing work is spent on it.
constexpr size_t kMaxTokenSize = 16 * 1024;
constexpr size_t kSha256Size = 32;
constexpr size_t kP256CoordinateSize = 32;
constexpr int kMinRsaBits = 2048;

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpMacDeleter {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct EvpMacCtxDeleter {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BignumDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, EvpMacDeleter>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, EvpMacCtxDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, BignumDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Value of a base64url character, or -1.
int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict base64url (RFC 4648 §5): only the URL-safe alphabet, padding optional but correct
// when present, and the unused low bits of the last character must be zero so that each
// byte string has exactly one encoding.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  if (in.size() % 4 == 0 && !in.empty()) {
    if (in.ends_with("==")) {
      in.remove_suffix(2);
    } else if (in.ends_with("=")) {
      in.remove_suffix(1);
    }
  }
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

// Parses JSON without letting an exception out; nullopt for anything that is not JSON.
std::optional<Json> ParseJson(const std::string& text) {
  try {
    Json value = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
  } catch (...) {
    return std::nullopt;
  }
}

// Serializes without throwing: invalid UTF-8 in a string is replaced rather than raised.
std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

bool HmacSha256(EVP_MAC* mac, std::string_view key, std::string_view data,
                std::array<unsigned char, kSha256Size>& out) {
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer would leave the key unset; an empty secret is a valid (weak) key.
  static constexpr unsigned char kEmpty = 0;
  const unsigned char* key_bytes = key.empty() ? &kEmpty : Bytes(key);
  size_t out_len = 0;
  return EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) == 1 &&
         EVP_MAC_update(ctx.get(), Bytes(data), data.size()) == 1 &&
         EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) == 1 &&
         out_len == out.size();
}

// JWS ES256 signatures are r||s, each 32 bytes big-endian; OpenSSL wants DER.
std::optional<std::string> RawEcdsaToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateSize) return std::nullopt;
  BignumPtr r(BN_bin2bn(Bytes(raw), kP256CoordinateSize, nullptr));
  BignumPtr s(BN_bin2bn(Bytes(raw) + kP256CoordinateSize, kP256CoordinateSize, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr) return std::nullopt;
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // Owned by sig now.
  s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &p) != len) return std::nullopt;
  return der;
}

bool DigestVerifySha256(EVP_PKEY* key, bool rsa, std::string_view data,
                        std::string_view signature) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return false;
  EVP_PKEY_CTX* pctx = nullptr;  // Owned by ctx.
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) return false;
  if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) return false;
  return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data),
                          data.size()) == 1;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return result;
}

// A NumericDate: any JSON number, fractional seconds rounded down, clamped to int64.
std::optional<int64_t> NumericDate(const Json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::numeric_limits<int64_t>::max();
    }
    return static_cast<int64_t>(v);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    // 2^63 is exactly representable; anything at or beyond it saturates.
    constexpr double kLimit = 9223372036854775808.0;
    if (d >= kLimit) return std::numeric_limits<int64_t>::max();
    if (d <= -kLimit) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

absl::Status Unauthenticated(absl::string_view reason) {
  return absl::UnauthenticatedError(reason);
}

// Reads an optional NumericDate claim; Unauthenticated when present but not a number.
absl::Status ReadTime(const Json& payload, const char* name, std::optional<int64_t>& out) {
  auto it = payload.find(name);
  if (it == payload.end()) return absl::OkStatus();
  std::optional<int64_t> value = NumericDate(*it);
  if (!value.has_value()) return Unauthenticated(absl::StrCat("invalid ", name, " claim"));
  out = *value;
  return absl::OkStatus();
}

enum class KeyKind { kNone, kRsa, kEcP256 };

class OpenSslJwtVerifier final : public JwtVerifier {
 public:
  OpenSslJwtVerifier(JwtVerifierOptions options, const common::Clock* clock, EvpMacPtr mac,
                     EvpPkeyPtr key, KeyKind key_kind)
      : options_(std::move(options)),
        clock_(clock),
        mac_(std::move(mac)),
        key_(std::move(key)),
        key_kind_(key_kind) {}

  absl::StatusOr<JwtClaims> Verify(std::string_view token) const override {
    absl::StatusOr<JwtClaims> result = VerifyImpl(token);
    // Failed OpenSSL calls leave entries in this thread's error queue; do not let them pile up
    // or leak into unrelated callers.
    ERR_clear_error();
    return result;
  }

 private:
  absl::StatusOr<JwtClaims> VerifyImpl(std::string_view token) const {
    if (token.empty() || token.size() > kMaxTokenSize) return Unauthenticated("malformed token");
    const size_t dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return Unauthenticated("malformed token");
    const size_t dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
      return Unauthenticated("malformed token");
    }
    const std::string_view header_b64 = token.substr(0, dot1);
    const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signing_input = token.substr(0, dot2);
    const std::optional<std::string> header_text = Base64UrlDecode(header_b64);
    const std::optional<std::string> payload_text = Base64UrlDecode(payload_b64);
    const std::optional<std::string> signature = Base64UrlDecode(token.substr(dot2 + 1));
    if (!header_text || !payload_text || !signature || header_b64.empty() ||
        payload_b64.empty()) {
      return Unauthenticated("malformed token");
    }

    const std::optional<Json> header = ParseJson(*header_text);
    if (!header || !header->is_object()) return Unauthenticated("malformed token header");
    const auto alg_it = header->find("alg");
    if (alg_it == header->end() || !alg_it->is_string()) {
      return Unauthenticated("malformed token header");
    }
    // We understand no JWS extensions, so any critical one makes the token unusable
    // (RFC 7515 §4.1.11).
    if (header->contains("crit")) return Unauthenticated("unsupported token header");
    const std::string& alg = alg_it->get_ref<const std::string&>();
    absl::Status signature_status = CheckSignature(alg, signing_input, *signature);
    if (!signature_status.ok()) return signature_status;

    const std::optional<Json> payload = ParseJson(*payload_text);
    if (!payload || !payload->is_object()) return Unauthenticated("malformed token payload");
    return CheckClaims(*payload);
  }

  absl::Status CheckSignature(const std::string& alg, std::string_view signing_input,
                              std::string_view signature) const {
    // Each algorithm is tied to one key: HS256 only ever uses the shared secret, never the
    // public key, which closes the RS256→HS256 confusion attack.
    if (alg == "HS256" && !options_.hs256_secret.empty()) {
      std::array<unsigned char, kSha256Size> expected;
      if (!HmacSha256(mac_.get(), options_.hs256_secret, signing_input, expected)) {
        return Unauthenticated("invalid signature");
      }
      if (signature.size() != expected.size() ||
          CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
        return Unauthenticated("invalid signature");
      }
      return absl::OkStatus();
    }
    if (alg == "RS256" && key_kind_ == KeyKind::kRsa) {
      if (!DigestVerifySha256(key_.get(), /*rsa=*/true, signing_input, signature)) {
        return Unauthenticated("invalid signature");
      }
      return absl::OkStatus();
    }
    if (alg == "ES256" && key_kind_ == KeyKind::kEcP256) {
      const std::optional<std::string> der = RawEcdsaToDer(signature);
      if (!der || !DigestVerifySha256(key_.get(), /*rsa=*/false, signing_input, *der)) {
        return Unauthenticated("invalid signature");
      }
      return absl::OkStatus();
    }
    return Unauthenticated("unsupported token algorithm");
  }

  absl::StatusOr<JwtClaims> CheckClaims(const Json& payload) const {
    JwtClaims claims;
    const auto sub = payload.find("sub");
    if (sub == payload.end() || !sub->is_string() || sub->get_ref<const std::string&>().empty()) {
      return Unauthenticated("missing sub claim");
    }
    claims.sub = sub->get<std::string>();

    if (const auto role = payload.find("role"); role != payload.end()) {
      if (!role->is_string()) return Unauthenticated("invalid role claim");
      claims.role = role->get<std::string>();
    }
    if (const auto perms = payload.find("permissions"); perms != payload.end()) {
      if (!perms->is_array()) return Unauthenticated("invalid permissions claim");
      claims.permissions.reserve(perms->size());
      for (const Json& p : *perms) {
        if (!p.is_string()) return Unauthenticated("invalid permissions claim");
        claims.permissions.push_back(p.get<std::string>());
      }
    }
    if (const auto iss = payload.find("iss"); iss != payload.end()) {
      if (!iss->is_string()) return Unauthenticated("invalid iss claim");
      claims.iss = iss->get<std::string>();
    }
    absl::Status status = ReadTime(payload, "exp", claims.exp);
    if (status.ok()) status = ReadTime(payload, "nbf", claims.nbf);
    if (status.ok()) status = ReadTime(payload, "iat", claims.iat);
    if (!status.ok()) return status;

    // Whole seconds, rounded down, as NumericDate compares.
    const int64_t now = clock_->NowMillis() / 1000;
    const int64_t leeway = options_.leeway_seconds;
    if (claims.exp.has_value() && now > SaturatingAdd(*claims.exp, leeway)) {
      return Unauthenticated("token expired");
    }
    if (claims.nbf.has_value() && SaturatingAdd(now, leeway) < *claims.nbf) {
      return Unauthenticated("token not yet valid");
    }
    if (!options_.issuer.empty() && claims.iss != options_.issuer) {
      return Unauthenticated("issuer mismatch");
    }
    if (!options_.audience.empty() && !HasAudience(payload)) {
      return Unauthenticated("audience mismatch");
    }
    return claims;
  }

  // `aud` is a string or an array of strings (RFC 7519 §4.1.3).
  bool HasAudience(const Json& payload) const {
    const auto aud = payload.find("aud");
    if (aud == payload.end()) return false;
    if (aud->is_string()) return aud->get_ref<const std::string&>() == options_.audience;
    if (!aud->is_array()) return false;
    for (const Json& a : *aud) {
      if (a.is_string() && a.get_ref<const std::string&>() == options_.audience) return true;
    }
    return false;
  }

  const JwtVerifierOptions options_;
  const common::Clock* const clock_;
  const EvpMacPtr mac_;  // Fetched once; a fetched EVP_MAC may be shared between threads.
  const EvpPkeyPtr key_;  // Only read after construction (EVP_PKEY is safe to share then).
  const KeyKind key_kind_;
};

absl::StatusOr<std::pair<EvpPkeyPtr, KeyKind>> ParsePublicKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("cannot allocate BIO");
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError("cannot parse JWT public key PEM");
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
      return absl::InvalidArgumentError("JWT RSA public key is shorter than 2048 bits");
    }
    return std::make_pair(std::move(key), KeyKind::kRsa);
  }
  if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {};
    size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &group_len) == 1 &&
        std::string_view(group, group_len) == SN_X9_62_prime256v1) {
      return std::make_pair(std::move(key), KeyKind::kEcP256);
    }
    return absl::InvalidArgumentError("JWT EC public key is not on curve P-256");
  }
  return absl::InvalidArgumentError("JWT public key is neither RSA nor EC P-256");
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> MakeJwtVerifier(JwtVerifierOptions options,
                                                             const common::Clock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("JWT verifier needs a clock");
  if (options.leeway_seconds < 0) {
    return absl::InvalidArgumentError("JWT leeway must not be negative");
  }
  if (options.hs256_secret.empty() && options.public_key_pem.empty()) {
    return absl::InvalidArgumentError("JWT verifier needs a secret or a public key");
  }
  EvpPkeyPtr key;
  KeyKind key_kind = KeyKind::kNone;
  if (!options.public_key_pem.empty()) {
    auto parsed = ParsePublicKey(options.public_key_pem);
    ERR_clear_error();
    if (!parsed.ok()) return parsed.status();
    key = std::move(parsed->first);
    key_kind = parsed->second;
  }
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (mac == nullptr) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL has no HMAC");
  }
  return std::make_unique<OpenSslJwtVerifier>(std::move(options), clock, std::move(mac),
                                              std::move(key), key_kind);
}

std::string MintHs256(std::string_view secret, const JwtClaims& claims, int64_t ttl_seconds,
                      const common::Clock& clock, std::string_view audience) {
  const int64_t now = clock.NowMillis() / 1000;
  Json payload = Json::object();
  payload["sub"] = claims.sub;
  payload["role"] = claims.role;
  payload["permissions"] = claims.permissions;
  payload["iat"] = now;
  payload["exp"] = SaturatingAdd(now, ttl_seconds);
  if (!claims.iss.empty()) payload["iss"] = claims.iss;
  if (!audience.empty()) payload["aud"] = std::string(audience);

  const std::string signing_input =
      absl::StrCat(Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"), ".",
                   Base64UrlEncode(DumpJson(payload)));
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  std::array<unsigned char, kSha256Size> signature;
  if (mac == nullptr || !HmacSha256(mac.get(), secret, signing_input, signature)) {
    ERR_clear_error();
    return "";  // Cannot happen with a working OpenSSL; an empty token never verifies.
  }
  return absl::StrCat(signing_input, ".",
                      Base64UrlEncode(std::string_view(
                          reinterpret_cast<const char*>(signature.data()), signature.size())));
}

}  // namespace tsml::auth
