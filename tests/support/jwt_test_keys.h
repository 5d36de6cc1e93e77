// Test-only JWT helpers: key pairs generated at run time and a signer for any JWS algorithm the
// tests need, including ones the verifier must refuse (HS512, none, forged headers).
#ifndef TSML_TESTS_SUPPORT_JWT_TEST_KEYS_H_
#define TSML_TESTS_SUPPORT_JWT_TEST_KEYS_H_

#include <string>
#include <string_view>

namespace tsml::test {

struct TestKeyPair {
  std::string public_pem;   // SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
  std::string private_pem;  // PKCS#8 ("BEGIN PRIVATE KEY").
};

// Fresh key pairs; abort the process if OpenSSL fails (a broken test environment).
TestKeyPair GenerateRsaKeyPair(int bits = 2048);
// `curve` is an OpenSSL group name; JWT ES256 needs "P-256".
TestKeyPair GenerateEcKeyPair(const char* curve = "P-256");

// Generated once per process and shared, since RSA generation is slow. Thread-safe.
const TestKeyPair& SharedRsaKeyPair();
const TestKeyPair& SharedEcKeyPair();

// Unpadded base64url.
std::string Base64UrlEncode(std::string_view data);

// {"alg":"<alg>","typ":"JWT"}
std::string JwtHeader(std::string_view alg);

// Returns base64url(header_json) "." base64url(payload_json) "." base64url(signature), the
// signature made with `alg` regardless of what header_json says:
//   HS256/HS384/HS512: `key` is the HMAC secret (any bytes, e.g. a public key PEM);
//   RS256/RS384/RS512: `key` is an RSA private key PEM (PKCS#1 v1.5);
//   ES256: `key` is an EC P-256 private key PEM, signature in JWS raw r||s form;
//   none: empty signature, `key` ignored.
// Aborts on an unknown alg or an unusable key (a bug in the test).
std::string SignJwt(std::string_view alg, std::string_view header_json,
                    std::string_view payload_json, std::string_view key);

// SignJwt(alg, JwtHeader(alg), payload_json, key).
std::string MakeJwt(std::string_view alg, std::string_view payload_json, std::string_view key);

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_JWT_TEST_KEYS_H_
