#include <utility>  // Must precede Asio headers with GCC 12.

#include "support/http_client.h"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tsml::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

absl::Status IoError(std::string_view what, const beast::error_code& ec) {
  if (ec == beast::error::timeout) return absl::DeadlineExceededError(std::string(what) + ": timeout");
  return absl::UnavailableError(std::string(what) + ": " + ec.message());
}

}  // namespace

struct HttpClient::Impl {
  std::string host;
  uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> stream;  // the kept-alive connection, if any
  beast::flat_buffer buffer;
  int connections_opened = 0;

  // Runs one asynchronous operation to completion on the private io_context, so that
  // tcp_stream's timeouts apply to a synchronous call.
  template <class Initiate>
  beast::error_code Run(Initiate initiate) {
    beast::error_code result = asio::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  absl::StatusOr<beast::tcp_stream> Connect() {
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return IoError(absl::StrCat("resolve ", host), ec);
    beast::tcp_stream s(ioc);
    s.expires_after(timeout);
    ec = Run([&](auto handler) { s.async_connect(endpoints, std::move(handler)); });
    if (ec) return IoError(absl::StrCat("connect ", host, ":", port), ec);
    s.socket().set_option(tcp::no_delay(true), ec);
    return s;
  }

  void Drop() {
    if (stream) {
      beast::error_code ec;
      stream->socket().shutdown(tcp::socket::shutdown_both, ec);
      stream->close();
      stream.reset();
    }
    buffer.clear();
  }
};

HttpClient::HttpClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() { impl_->Drop(); }

int HttpClient::connections_opened() const { return impl_->connections_opened; }

absl::StatusOr<HttpClient::Response> HttpClient::Send(
    std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& d = *impl_;
  http::request<http::string_body> req;
  req.version(11);
  req.method_string({method.data(), method.size()});
  req.target({target.data(), target.size()});
  req.set(http::field::host, absl::StrCat(d.host, ":", d.port));
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    if (Lower(name) == "content-type") has_content_type = true;
    req.insert(name, value);
  }
  if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    const bool reused = d.stream.has_value();
    if (!reused) {
      auto s = d.Connect();
      if (!s.ok()) return s.status();
      d.stream.emplace(std::move(*s));
      d.buffer.clear();
      ++d.connections_opened;
    }
    d.stream->expires_after(d.timeout);
    beast::error_code ec =
        d.Run([&](auto handler) { http::async_write(*d.stream, req, std::move(handler)); });
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    if (!ec) {
      ec = d.Run([&](auto handler) {
        http::async_read(*d.stream, d.buffer, parser, std::move(handler));
      });
    }
    if (ec) {
      d.Drop();
      // A reused connection that the server had already closed: retry once on a new one.
      bool closed = ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                    ec == asio::error::broken_pipe || ec == asio::error::eof;
      if (reused && closed && attempt == 0) continue;
      return IoError(std::string(method) + " " + std::string(target), ec);
    }
    auto& res = parser.get();
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      beast::string_view name = field.name_string();
      out.headers[Lower({name.data(), name.size()})] = std::string(field.value());
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) d.Drop();
    return out;
  }
}

absl::StatusOr<std::string> HttpClient::SendRaw(std::string_view bytes,
                                                std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  auto s = d.Connect();
  if (!s.ok()) return s.status();
  beast::tcp_stream& stream = *s;
  stream.expires_after(timeout);
  beast::error_code ec = d.Run([&](auto handler) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()), std::move(handler));
  });
  if (ec) return IoError("raw write", ec);
  std::string received;
  char chunk[4096];
  for (;;) {
    size_t n = 0;
    ec = d.Run([&](auto handler) {
      stream.async_read_some(asio::buffer(chunk), [&n, h = std::move(handler)](
                                                      beast::error_code e, size_t got) mutable {
        n = got;
        h(e);
      });
    });
    received.append(chunk, n);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return received;
    if (ec) return IoError("raw read", ec);
  }
}

}  // namespace tsml::test
