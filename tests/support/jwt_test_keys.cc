#include "support/jwt_test_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

namespace tsml::test {
namespace {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EvpMacDeleter {
  void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct EvpMacCtxDeleter {
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, EvpMacDeleter>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, EvpMacCtxDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "jwt_test_keys: %s\n", what);
  ERR_print_errors_fp(stderr);
  std::abort();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

TestKeyPair ToKeyPair(EVP_PKEY* key) {
  BioPtr pub(BIO_new(BIO_s_mem()));
  BioPtr priv(BIO_new(BIO_s_mem()));
  if (pub == nullptr || priv == nullptr || PEM_write_bio_PUBKEY(pub.get(), key) != 1 ||
      PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    Die("cannot write PEM");
  }
  return TestKeyPair{BioToString(pub.get()), BioToString(priv.get())};
}

EvpPkeyPtr ReadPrivateKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) Die("cannot allocate BIO");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) Die("cannot parse private key PEM");
  return key;
}

std::string Hmac(const char* digest_name, std::string_view key, std::string_view data) {
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (mac == nullptr) Die("no HMAC");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (ctx == nullptr) Die("cannot allocate MAC context");
  std::string digest(digest_name);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_end(),
  };
  static constexpr unsigned char kEmpty = 0;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  if (EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : Bytes(key), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out, &out_len, sizeof(out)) != 1) {
    Die("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

// DER-encoded signature over `data` with `digest`.
std::string DigestSign(EVP_PKEY* key, const EVP_MD* digest, bool rsa, std::string_view data) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) Die("cannot allocate digest context");
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, digest, nullptr, key) != 1) Die("sign init failed");
  if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) Die("padding failed");
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, Bytes(data), data.size()) != 1) Die("sign failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, Bytes(data),
                     data.size()) != 1) {
    Die("sign failed");
  }
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value → JWS r||s, each coordinate left-padded to 32 bytes.
std::string DerToRawEcdsa(const std::string& der) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) Die("cannot parse ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(64, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32) {
    Die("ECDSA coordinate too large");
  }
  return raw;
}

std::string Sign(std::string_view alg, std::string_view data, std::string_view key) {
  if (alg == "none") return "";
  if (alg == "HS256") return Hmac("SHA256", key, data);
  if (alg == "HS384") return Hmac("SHA384", key, data);
  if (alg == "HS512") return Hmac("SHA512", key, data);
  if (alg == "RS256" || alg == "RS384" || alg == "RS512") {
    const EVP_MD* digest =
        alg == "RS256" ? EVP_sha256() : alg == "RS384" ? EVP_sha384() : EVP_sha512();
    EvpPkeyPtr pkey = ReadPrivateKey(key);
    return DigestSign(pkey.get(), digest, /*rsa=*/true, data);
  }
  if (alg == "ES256") {
    EvpPkeyPtr pkey = ReadPrivateKey(key);
    return DerToRawEcdsa(DigestSign(pkey.get(), EVP_sha256(), /*rsa=*/false, data));
  }
  Die("unknown alg");
}

}  // namespace

TestKeyPair GenerateRsaKeyPair(int bits) {
  EvpPkeyPtr key(EVP_RSA_gen(static_cast<unsigned int>(bits)));
  if (key == nullptr) Die("RSA key generation failed");
  return ToKeyPair(key.get());
}

TestKeyPair GenerateEcKeyPair(const char* curve) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  if (key == nullptr) Die("EC key generation failed");
  return ToKeyPair(key.get());
}

const TestKeyPair& SharedRsaKeyPair() {
  static const TestKeyPair* const kPair = new TestKeyPair(GenerateRsaKeyPair());
  return *kPair;
}

const TestKeyPair& SharedEcKeyPair() {
  static const TestKeyPair* const kPair = new TestKeyPair(GenerateEcKeyPair());
  return *kPair;
}

std::string Base64UrlEncode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
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

std::string JwtHeader(std::string_view alg) {
  nlohmann::json header = {{"alg", std::string(alg)}, {"typ", "JWT"}};
  return header.dump();
}

std::string SignJwt(std::string_view alg, std::string_view header_json,
                    std::string_view payload_json, std::string_view key) {
  std::string signing_input = Base64UrlEncode(header_json);
  signing_input += '.';
  signing_input += Base64UrlEncode(payload_json);
  const std::string signature = Sign(alg, signing_input, key);
  return signing_input + "." + Base64UrlEncode(signature);
}

std::string MakeJwt(std::string_view alg, std::string_view payload_json, std::string_view key) {
  return SignJwt(alg, JwtHeader(alg), payload_json, key);
}

}  // namespace tsml::test
