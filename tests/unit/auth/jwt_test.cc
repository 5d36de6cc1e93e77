#include "auth/jwt.h"

#include <atomic>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "common/clock.h"
#include "support/jwt_test_keys.h"

namespace tsml::auth {
namespace {

using ::nlohmann::json;
using ::tsml::test::Base64UrlEncode;
using ::tsml::test::JwtHeader;
using ::tsml::test::MakeJwt;
using ::tsml::test::SharedEcKeyPair;
using ::tsml::test::SharedRsaKeyPair;
using ::tsml::test::SignJwt;

constexpr int64_t kNow = 1'700'000'000;  // Seconds since the epoch.
constexpr char kSecret[] = "hs256-test-secret-with-enough-entropy-0123456789";
constexpr char kSub[] = "0123456789abcdef01234567";

json BasePayload() {
  return json{{"sub", kSub},
              {"role", "admin"},
              {"permissions", {"ml:train", "ml:deploy"}},
              {"iat", kNow},
              {"exp", kNow + 3600}};
}

std::string Hs256(const json& payload, std::string_view secret = kSecret) {
  return MakeJwt("HS256", payload.dump(), secret);
}

// Splits a compact JWS into its three segments.
std::vector<std::string> Segments(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

class JwtTest : public ::testing::Test {
 protected:
  std::unique_ptr<JwtVerifier> Make(JwtVerifierOptions options) {
    auto verifier = MakeJwtVerifier(std::move(options), &clock_);
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? std::move(verifier).value() : nullptr;
  }
  std::unique_ptr<JwtVerifier> HsVerifier() { return Make({.hs256_secret = kSecret}); }
  std::unique_ptr<JwtVerifier> RsaVerifier() {
    return Make({.public_key_pem = SharedRsaKeyPair().public_pem});
  }
  std::unique_ptr<JwtVerifier> EcVerifier() {
    return Make({.public_key_pem = SharedEcKeyPair().public_pem});
  }

  // The token is refused as Unauthenticated, with a message containing `reason` that leaks
  // neither the token nor the secret.
  static void ExpectRefused(const JwtVerifier& verifier, const std::string& token,
                            std::string_view reason = "") {
    absl::StatusOr<JwtClaims> claims = verifier.Verify(token);
    ASSERT_FALSE(claims.ok()) << "token was accepted: " << token;
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated) << claims.status();
    const std::string message(claims.status().message());
    EXPECT_NE(message.find(reason), std::string::npos) << message;
    EXPECT_EQ(message.find(kSecret), std::string::npos) << message;
    if (!token.empty()) {
      EXPECT_EQ(message.find(token), std::string::npos) << message;
    }
    EXPECT_LT(message.size(), 64u) << message;
  }

  static void ExpectAccepted(const JwtVerifier& verifier, const std::string& token) {
    absl::StatusOr<JwtClaims> claims = verifier.Verify(token);
    EXPECT_TRUE(claims.ok()) << claims.status();
  }

  common::FakeClock clock_{kNow * 1000 + 250};
};

// ---------------------------------------------------------------------------------------------
// Factory

TEST_F(JwtTest, FactoryNeedsSecretOrKey) {
  auto verifier = MakeJwtVerifier({}, &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, FactoryRefusesUnparsableKey) {
  auto verifier = MakeJwtVerifier({.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n"
                                                     "-----END PUBLIC KEY-----\n"},
                                  &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
  verifier = MakeJwtVerifier({.hs256_secret = kSecret, .public_key_pem = "garbage"}, &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, FactoryRefusesPrivateKeyPem) {
  auto verifier = MakeJwtVerifier({.public_key_pem = SharedRsaKeyPair().private_pem}, &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, FactoryRefusesWeakRsaKey) {
  auto verifier = MakeJwtVerifier(
      {.public_key_pem = tsml::test::GenerateRsaKeyPair(1024).public_pem}, &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, FactoryRefusesEcKeyOffP256) {
  auto verifier = MakeJwtVerifier(
      {.public_key_pem = tsml::test::GenerateEcKeyPair("P-384").public_pem}, &clock_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtTest, FactoryRefusesNullClockAndNegativeLeeway) {
  EXPECT_EQ(MakeJwtVerifier({.hs256_secret = kSecret}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeJwtVerifier({.hs256_secret = kSecret, .leeway_seconds = -1}, &clock_)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// HS256

TEST_F(JwtTest, Hs256ValidTokenYieldsClaims) {
  json payload = BasePayload();
  payload["iss"] = "tsml-issuer";
  payload["nbf"] = kNow - 10;
  auto verifier = HsVerifier();
  absl::StatusOr<JwtClaims> claims = verifier->Verify(Hs256(payload));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->sub, kSub);
  EXPECT_EQ(claims->role, "admin");
  EXPECT_EQ(claims->permissions, (std::vector<std::string>{"ml:train", "ml:deploy"}));
  EXPECT_EQ(claims->exp, kNow + 3600);
  EXPECT_EQ(claims->iat, kNow);
  EXPECT_EQ(claims->nbf, kNow - 10);
  EXPECT_EQ(claims->iss, "tsml-issuer");
}

TEST_F(JwtTest, RoleAndPermissionsMayBeMissing) {
  json payload = BasePayload();
  payload.erase("role");
  payload.erase("permissions");
  payload.erase("iat");
  payload.erase("exp");
  absl::StatusOr<JwtClaims> claims = HsVerifier()->Verify(Hs256(payload));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, "");
  EXPECT_TRUE(claims->permissions.empty());
  EXPECT_FALSE(claims->exp.has_value());
  EXPECT_FALSE(claims->iat.has_value());
  EXPECT_FALSE(claims->nbf.has_value());
  EXPECT_EQ(claims->iss, "");
}

TEST_F(JwtTest, Hs256WrongSecretRefused) {
  ExpectRefused(*HsVerifier(), Hs256(BasePayload(), "another-secret"), "signature");
}

TEST_F(JwtTest, Hs256TamperedPayloadRefused) {
  const std::string token = Hs256(BasePayload());
  json forged = BasePayload();
  forged["permissions"] = {"ml:train", "ml:deploy", "ml:admin"};
  const std::vector<std::string> parts = Segments(token);
  ExpectRefused(*HsVerifier(), parts[0] + "." + Base64UrlEncode(forged.dump()) + "." + parts[2],
                "signature");
}

TEST_F(JwtTest, Hs256TamperedOrTruncatedSignatureRefused) {
  const std::string token = Hs256(BasePayload());
  const std::vector<std::string> parts = Segments(token);
  std::string flipped = parts[2];
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  auto verifier = HsVerifier();
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + flipped, "signature");
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + parts[2].substr(0, 40),
                "signature");
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + ".", "signature");
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + parts[2] + "AAAA", "signature");
}

TEST_F(JwtTest, AlgNoneRefused) {
  auto verifier = HsVerifier();
  const std::string payload = BasePayload().dump();
  // No signature at all.
  ExpectRefused(*verifier, MakeJwt("none", payload, ""), "algorithm");
  // A header claiming none, carrying a valid HS256 signature of the same input.
  ExpectRefused(*verifier, SignJwt("HS256", JwtHeader("none"), payload, kSecret), "algorithm");
  // Case variants are not HS256 either.
  for (const char* alg : {"None", "NONE", "nOnE", "hs256", "HS256 ", ""}) {
    ExpectRefused(*verifier, SignJwt("HS256", JwtHeader(alg), payload, kSecret), "algorithm");
  }
  // Nor with only a public key configured.
  ExpectRefused(*RsaVerifier(), MakeJwt("none", payload, ""), "algorithm");
}

TEST_F(JwtTest, OtherHmacAlgorithmsWithSameSecretRefused) {
  auto verifier = HsVerifier();
  ExpectRefused(*verifier, MakeJwt("HS512", BasePayload().dump(), kSecret), "algorithm");
  ExpectRefused(*verifier, MakeJwt("HS384", BasePayload().dump(), kSecret), "algorithm");
  // An HS512 signature under an HS256 header does not match either.
  ExpectRefused(*verifier, SignJwt("HS512", JwtHeader("HS256"), BasePayload().dump(), kSecret),
                "signature");
}

// ---------------------------------------------------------------------------------------------
// RS256 / ES256

TEST_F(JwtTest, Rs256ValidWithPublicKey) {
  absl::StatusOr<JwtClaims> claims =
      RsaVerifier()->Verify(MakeJwt("RS256", BasePayload().dump(), SharedRsaKeyPair().private_pem));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->sub, kSub);
  EXPECT_EQ(claims->role, "admin");
}

TEST_F(JwtTest, Es256ValidWithPublicKey) {
  absl::StatusOr<JwtClaims> claims =
      EcVerifier()->Verify(MakeJwt("ES256", BasePayload().dump(), SharedEcKeyPair().private_pem));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->sub, kSub);
  EXPECT_EQ(claims->permissions.size(), 2u);
}

TEST_F(JwtTest, Rs256SignedByAnotherKeyRefused) {
  const tsml::test::TestKeyPair other = tsml::test::GenerateRsaKeyPair();
  ExpectRefused(*RsaVerifier(), MakeJwt("RS256", BasePayload().dump(), other.private_pem),
                "signature");
}

TEST_F(JwtTest, Es256SignedByAnotherKeyRefused) {
  const tsml::test::TestKeyPair other = tsml::test::GenerateEcKeyPair();
  ExpectRefused(*EcVerifier(), MakeJwt("ES256", BasePayload().dump(), other.private_pem),
                "signature");
}

TEST_F(JwtTest, Rs256TamperedPayloadRefused) {
  const std::vector<std::string> parts =
      Segments(MakeJwt("RS256", BasePayload().dump(), SharedRsaKeyPair().private_pem));
  json forged = BasePayload();
  forged["sub"] = "ffffffffffffffffffffffff";
  ExpectRefused(*RsaVerifier(),
                parts[0] + "." + Base64UrlEncode(forged.dump()) + "." + parts[2], "signature");
}

TEST_F(JwtTest, Es256MalformedSignaturesRefused) {
  auto verifier = EcVerifier();
  const std::string payload = BasePayload().dump();
  const std::vector<std::string> parts =
      Segments(MakeJwt("ES256", payload, SharedEcKeyPair().private_pem));
  const std::string input = parts[0] + "." + parts[1] + ".";
  // r = s = 0 ("psychic signature") must never verify.
  ExpectRefused(*verifier, input + Base64UrlEncode(std::string(64, '\0')), "signature");
  // Wrong lengths, including a DER-shaped blob.
  ExpectRefused(*verifier, input + Base64UrlEncode(std::string(72, '\x30')), "signature");
  ExpectRefused(*verifier, input, "signature");
  // An RSA signature under an ES256 header.
  ExpectRefused(*verifier,
                SignJwt("RS256", JwtHeader("ES256"), payload, SharedRsaKeyPair().private_pem),
                "signature");
}

TEST_F(JwtTest, AsymmetricTokenRefusedWhenOnlyHs256Configured) {
  auto verifier = HsVerifier();
  ExpectRefused(*verifier, MakeJwt("RS256", BasePayload().dump(), SharedRsaKeyPair().private_pem),
                "algorithm");
  ExpectRefused(*verifier, MakeJwt("ES256", BasePayload().dump(), SharedEcKeyPair().private_pem),
                "algorithm");
}

TEST_F(JwtTest, AlgorithmMustMatchKeyType) {
  // RSA key configured: ES256 refused; EC key configured: RS256 refused.
  ExpectRefused(*RsaVerifier(),
                MakeJwt("ES256", BasePayload().dump(), SharedEcKeyPair().private_pem),
                "algorithm");
  ExpectRefused(*EcVerifier(),
                MakeJwt("RS256", BasePayload().dump(), SharedRsaKeyPair().private_pem),
                "algorithm");
  // Other RSA digests with the right key are not accepted.
  ExpectRefused(*RsaVerifier(),
                MakeJwt("RS512", BasePayload().dump(), SharedRsaKeyPair().private_pem),
                "algorithm");
}

TEST_F(JwtTest, AlgorithmConfusionRefused) {
  const std::string pem = SharedRsaKeyPair().public_pem;
  const std::string payload = BasePayload().dump();
  auto rsa_only = RsaVerifier();
  ExpectRefused(*rsa_only, MakeJwt("HS256", payload, pem), "algorithm");
  // Also with the PEM lacking its trailing newline, as some attack tools send it.
  ExpectRefused(*rsa_only, MakeJwt("HS256", payload, pem.substr(0, pem.size() - 1)),
                "algorithm");
  ExpectRefused(*EcVerifier(), MakeJwt("HS256", payload, SharedEcKeyPair().public_pem),
                "algorithm");
}

TEST_F(JwtTest, BothConfiguredHs256UsesOnlyTheSecret) {
  auto verifier = Make({.hs256_secret = kSecret, .public_key_pem = SharedRsaKeyPair().public_pem});
  const std::string payload = BasePayload().dump();
  ExpectRefused(*verifier, MakeJwt("HS256", payload, SharedRsaKeyPair().public_pem), "signature");
  ExpectAccepted(*verifier, MakeJwt("HS256", payload, kSecret));
  ExpectAccepted(*verifier, MakeJwt("RS256", payload, SharedRsaKeyPair().private_pem));
}

// ---------------------------------------------------------------------------------------------
// Time claims

TEST_F(JwtTest, ExpiredBeyondLeewayRefused) {
  json payload = BasePayload();
  payload["exp"] = kNow - 31;
  ExpectRefused(*HsVerifier(), Hs256(payload), "token expired");
}

TEST_F(JwtTest, ExpiredWithinLeewayAccepted) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  payload["exp"] = kNow - 10;
  ExpectAccepted(*verifier, Hs256(payload));
  payload["exp"] = kNow - 30;  // Exactly at the edge of the 30 s leeway.
  ExpectAccepted(*verifier, Hs256(payload));
}

TEST_F(JwtTest, ZeroLeewayIsStrict) {
  auto verifier = Make({.hs256_secret = kSecret, .leeway_seconds = 0});
  json payload = BasePayload();
  payload["exp"] = kNow;
  ExpectAccepted(*verifier, Hs256(payload));
  payload["exp"] = kNow - 1;
  ExpectRefused(*verifier, Hs256(payload), "token expired");
}

TEST_F(JwtTest, TokenExpiresAsClockAdvances) {
  auto verifier = HsVerifier();
  const std::string token = Hs256(BasePayload());  // exp = now + 3600.
  ExpectAccepted(*verifier, token);
  clock_.Advance((3600 + 30) * 1000);
  ExpectAccepted(*verifier, token);
  clock_.Advance(1000);
  ExpectRefused(*verifier, token, "token expired");
}

TEST_F(JwtTest, NotBeforeInTheFutureRefused) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  payload["nbf"] = kNow + 31;
  ExpectRefused(*verifier, Hs256(payload), "token not yet valid");
  payload["nbf"] = kNow + 30;  // Within leeway.
  ExpectAccepted(*verifier, Hs256(payload));
  payload["nbf"] = kNow + 600;
  const std::string later = Hs256(payload);
  ExpectRefused(*verifier, later, "token not yet valid");
  clock_.Advance(600 * 1000);
  ExpectAccepted(*verifier, later);
}

TEST_F(JwtTest, NonNumericTimeClaimsRefused) {
  auto verifier = HsVerifier();
  for (const char* claim : {"exp", "nbf", "iat"}) {
    for (const json& bad : {json("1700003600"), json(true), json(nullptr), json::array(),
                            json::object()}) {
      json payload = BasePayload();
      payload[claim] = bad;
      ExpectRefused(*verifier, Hs256(payload), claim);
    }
  }
}

TEST_F(JwtTest, FractionalAndHugeTimesHandled) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  payload["exp"] = static_cast<double>(kNow) + 0.75;
  absl::StatusOr<JwtClaims> claims = verifier->Verify(Hs256(payload));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->exp, kNow);
  // Far-future values saturate instead of overflowing.
  payload["exp"] = 1e300;
  ExpectAccepted(*verifier, Hs256(payload));
  payload["exp"] = std::numeric_limits<uint64_t>::max();
  ExpectAccepted(*verifier, Hs256(payload));
  payload["exp"] = std::numeric_limits<int64_t>::max();
  ExpectAccepted(*verifier, Hs256(payload));
  payload["exp"] = std::numeric_limits<int64_t>::min();
  ExpectRefused(*verifier, Hs256(payload), "token expired");
  payload["exp"] = kNow + 3600;
  payload["nbf"] = std::numeric_limits<int64_t>::max();
  ExpectRefused(*verifier, Hs256(payload), "token not yet valid");
}

// ---------------------------------------------------------------------------------------------
// Issuer and audience

TEST_F(JwtTest, IssuerChecked) {
  auto verifier = Make({.hs256_secret = kSecret, .issuer = "https://auth.example"});
  json payload = BasePayload();
  payload["iss"] = "https://auth.example";
  ExpectAccepted(*verifier, Hs256(payload));
  payload["iss"] = "https://evil.example";
  ExpectRefused(*verifier, Hs256(payload), "issuer");
  payload.erase("iss");
  ExpectRefused(*verifier, Hs256(payload), "issuer");
}

TEST_F(JwtTest, IssuerNotCheckedWhenUnconfiguredButMustBeString) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  payload["iss"] = "anyone";
  ExpectAccepted(*verifier, Hs256(payload));
  payload["iss"] = 42;
  ExpectRefused(*verifier, Hs256(payload), "iss");
}

TEST_F(JwtTest, AudienceChecked) {
  auto verifier = Make({.hs256_secret = kSecret, .audience = "tsml"});
  json payload = BasePayload();
  payload["aud"] = "tsml";
  ExpectAccepted(*verifier, Hs256(payload));
  payload["aud"] = {"other", 7, "tsml"};
  ExpectAccepted(*verifier, Hs256(payload));
  payload["aud"] = "other";
  ExpectRefused(*verifier, Hs256(payload), "audience");
  payload["aud"] = {"other", "tsml-admin"};
  ExpectRefused(*verifier, Hs256(payload), "audience");
  payload["aud"] = json::array();
  ExpectRefused(*verifier, Hs256(payload), "audience");
  payload["aud"] = json{{"tsml", true}};
  ExpectRefused(*verifier, Hs256(payload), "audience");
  payload.erase("aud");
  ExpectRefused(*verifier, Hs256(payload), "audience");
}

TEST_F(JwtTest, AudienceIgnoredWhenUnconfigured) {
  json payload = BasePayload();
  payload["aud"] = "someone-else";
  ExpectAccepted(*HsVerifier(), Hs256(payload));
}

// ---------------------------------------------------------------------------------------------
// Malformed tokens

TEST_F(JwtTest, WrongSegmentCountRefused) {
  auto verifier = HsVerifier();
  const std::string token = Hs256(BasePayload());
  const std::vector<std::string> parts = Segments(token);
  ExpectRefused(*verifier, "", "malformed");
  ExpectRefused(*verifier, parts[0], "malformed");
  ExpectRefused(*verifier, parts[0] + "." + parts[1], "malformed");
  ExpectRefused(*verifier, token + ".", "malformed");
  ExpectRefused(*verifier, token + "." + parts[2], "malformed");
  ExpectRefused(*verifier, "..", "malformed");
  ExpectRefused(*verifier, "." + parts[1] + "." + parts[2], "malformed");
}

TEST_F(JwtTest, BadBase64Refused) {
  auto verifier = HsVerifier();
  const std::string token = Hs256(BasePayload());
  const std::vector<std::string> parts = Segments(token);
  // Characters outside the base64url alphabet, in any segment.
  ExpectRefused(*verifier, parts[0] + "!." + parts[1] + "." + parts[2], "malformed");
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "*." + parts[2], "malformed");
  std::string std_alphabet = parts[2];
  std_alphabet[3] = '+';
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + std_alphabet, "malformed");
  std_alphabet[3] = '/';
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + std_alphabet, "malformed");
  ExpectRefused(*verifier, " " + token, "malformed");
  ExpectRefused(*verifier, token + "\n", "malformed");
  ExpectRefused(*verifier, parts[0] + "." + parts[1].substr(0, 4) + " " + parts[1].substr(4) +
                               "." + parts[2],
                "malformed");
  // A length that no byte string encodes to (4n + 1).
  ExpectRefused(*verifier, "eyJhb." + parts[1] + "." + parts[2], "malformed");
}

TEST_F(JwtTest, Base64PaddingOptionalButMustBeCorrect) {
  auto verifier = HsVerifier();
  const std::vector<std::string> parts = Segments(Hs256(BasePayload()));
  ASSERT_EQ(parts[2].size(), 43u);  // 32 bytes, one '=' of padding left out.
  const std::string input = parts[0] + "." + parts[1] + ".";
  ExpectAccepted(*verifier, input + parts[2] + "=");
  ExpectRefused(*verifier, input + parts[2] + "==", "malformed");
  ExpectRefused(*verifier, input + parts[2].substr(0, 20) + "=" + parts[2].substr(20),
                "malformed");
}

TEST_F(JwtTest, NonCanonicalBase64Refused) {
  // The last character of a 32-byte signature carries 2 unused bits; setting one must not give
  // a second valid spelling of the same signature.
  auto verifier = HsVerifier();
  const std::vector<std::string> parts = Segments(Hs256(BasePayload()));
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string sig = parts[2];
  const size_t value = std::string_view(kAlphabet).find(sig.back());
  ASSERT_EQ(value & 3, 0u);
  sig.back() = kAlphabet[value | 1];
  ExpectRefused(*verifier, parts[0] + "." + parts[1] + "." + sig, "malformed");
}

TEST_F(JwtTest, HeaderMustBeJsonObjectWithStringAlg) {
  auto verifier = HsVerifier();
  const std::string payload = BasePayload().dump();
  for (const char* header : {"not json", R"(["HS256"])", R"("HS256")", "{}", R"({"typ":"JWT"})",
                             R"({"alg":256})", R"({"alg":null})", R"({"alg":["HS256"]})",
                             R"({"alg":"HS256")", ""}) {
    ExpectRefused(*verifier, SignJwt("HS256", header, payload, kSecret), "");
  }
}

TEST_F(JwtTest, CriticalHeaderExtensionsRefused) {
  ExpectRefused(*HsVerifier(),
                SignJwt("HS256", R"({"alg":"HS256","crit":["exp"],"exp":1})",
                        BasePayload().dump(), kSecret),
                "header");
}

TEST_F(JwtTest, PayloadMustBeJsonObject) {
  auto verifier = HsVerifier();
  for (const char* payload : {"not json", R"([{"sub":"0123456789abcdef01234567"}])", "42",
                              R"("sub")", "null", R"({"sub":"x")"}) {
    ExpectRefused(*verifier, MakeJwt("HS256", payload, kSecret), "payload");
  }
}

TEST_F(JwtTest, SubRequiredAsNonEmptyString) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  payload.erase("sub");
  ExpectRefused(*verifier, Hs256(payload), "sub");
  for (const json& bad : {json(12345), json(nullptr), json(""), json::array({kSub})}) {
    payload["sub"] = bad;
    ExpectRefused(*verifier, Hs256(payload), "sub");
  }
}

TEST_F(JwtTest, PermissionsMustBeArrayOfStrings) {
  auto verifier = HsVerifier();
  json payload = BasePayload();
  for (const json& bad : {json("ml:train"), json(nullptr), json::object(),
                          json::array({"ml:train", 1}), json::array({json::array({"x"})})}) {
    payload["permissions"] = bad;
    ExpectRefused(*verifier, Hs256(payload), "permissions");
  }
  payload["permissions"] = json::array();
  ExpectAccepted(*verifier, Hs256(payload));
}

TEST_F(JwtTest, RoleMustBeString) {
  json payload = BasePayload();
  payload["role"] = json::array({"admin"});
  ExpectRefused(*HsVerifier(), Hs256(payload), "role");
}

TEST_F(JwtTest, OversizedTokenRefused) {
  json payload = BasePayload();
  payload["padding"] = std::string(20000, 'x');
  ExpectRefused(*HsVerifier(), Hs256(payload), "malformed");
}

TEST_F(JwtTest, DeeplyNestedJsonDoesNotCrash) {
  json payload = BasePayload();
  std::string text = payload.dump();
  text.pop_back();
  text += R"(,"deep":)" + std::string(4000, '[') + std::string(4000, ']') + "}";
  ExpectAccepted(*HsVerifier(), MakeJwt("HS256", text, kSecret));
}

// ---------------------------------------------------------------------------------------------
// Minting

TEST_F(JwtTest, MintVerifyRoundTrip) {
  JwtClaims in;
  in.sub = kSub;
  in.role = "analyst";
  in.permissions = {"ml:train", "ml:monitor"};
  in.iss = "tsml";
  const std::string token = MintHs256(kSecret, in, 900, clock_, "tsml-api");
  EXPECT_EQ(Segments(token)[0], Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"));

  auto verifier = Make({.hs256_secret = kSecret, .issuer = "tsml", .audience = "tsml-api"});
  absl::StatusOr<JwtClaims> out = verifier->Verify(token);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->sub, in.sub);
  EXPECT_EQ(out->role, in.role);
  EXPECT_EQ(out->permissions, in.permissions);
  EXPECT_EQ(out->iss, "tsml");
  EXPECT_EQ(out->iat, kNow);
  EXPECT_EQ(out->exp, kNow + 900);
  EXPECT_FALSE(out->nbf.has_value());

  ExpectRefused(*Make({.hs256_secret = kSecret, .audience = "other"}), token, "audience");
  ExpectRefused(*Make({.hs256_secret = "not-the-secret"}), token, "signature");
  clock_.Advance((900 + 31) * 1000);
  ExpectRefused(*verifier, token, "token expired");
}

TEST_F(JwtTest, MintOmitsEmptyIssuerAndAudience) {
  JwtClaims in;
  in.sub = kSub;
  const std::string token = MintHs256(kSecret, in, 60, clock_);
  const std::vector<std::string> parts = Segments(token);
  ASSERT_EQ(parts.size(), 3u);
  auto verifier = HsVerifier();
  absl::StatusOr<JwtClaims> out = verifier->Verify(token);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->iss, "");
  ExpectRefused(*Make({.hs256_secret = kSecret, .issuer = "tsml"}), token, "issuer");
  ExpectRefused(*Make({.hs256_secret = kSecret, .audience = "tsml"}), token, "audience");
}

TEST_F(JwtTest, MintWithInvalidUtf8DoesNotThrow) {
  JwtClaims in;
  in.sub = "abc\xff\xfe";
  in.role = "\xc3";
  std::string token;
  EXPECT_NO_THROW(token = MintHs256(kSecret, in, 60, clock_));
  EXPECT_TRUE(HsVerifier()->Verify(token).ok());
}

// ---------------------------------------------------------------------------------------------
// Concurrency

TEST_F(JwtTest, ConcurrentVerifyIsSafe) {
  auto verifier = Make({.hs256_secret = kSecret, .public_key_pem = SharedEcKeyPair().public_pem});
  const std::string hs = Hs256(BasePayload());
  const std::string es = MakeJwt("ES256", BasePayload().dump(), SharedEcKeyPair().private_pem);
  const std::string bad = Hs256(BasePayload(), "wrong");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (!verifier->Verify(hs).ok() || !verifier->Verify(es).ok() ||
            verifier->Verify(bad).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tsml::auth
