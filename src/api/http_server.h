// Asynchronous HTTP/1.1 server (Boost.Beast/Asio) with keep-alive and a thread per core.
//
// The server owns transport concerns only: it reads a request (with a body limit and
// header/read timeouts), assigns a request id, calls the handler on one of its threads,
// and writes the response with `X-Request-Id`, `Content-Type`, and `Content-Length`.
// Requests that fail at the transport level get a JSON error (CONTRACT §5) without reaching
// the handler: an oversized body → 413 PAYLOAD_TOO_LARGE, a malformed request → 400.
#ifndef TSML_API_HTTP_SERVER_H_
#define TSML_API_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "api/http_types.h"

namespace tsml::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (see HttpServer::port())
  int threads = 0;       // 0: one per core
  size_t body_limit_bytes = 1 << 20;
  int header_timeout_ms = 10000;  // time allowed to receive a whole request
  int idle_timeout_ms = 60000;    // keep-alive connection idle limit
};

// Called on a server thread for every complete request. Must not throw (the server catches
// anything that escapes and answers 500 INTERNAL).
using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds and starts serving on background threads. Returns when listening.
  virtual absl::Status Start() = 0;
  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Graceful stop: stops accepting, lets in-flight requests finish (up to `grace_ms`), closes
  // idle keep-alive connections, joins the threads. Idempotent; the destructor calls it. Must
  // not be called from a server thread (a handler).
  virtual void Stop(int grace_ms = 5000) = 0;
};

std::unique_ptr<HttpServer> MakeHttpServer(HttpServerOptions options, HttpHandler handler);

}  // namespace tsml::api

#endif  // TSML_API_HTTP_SERVER_H_
