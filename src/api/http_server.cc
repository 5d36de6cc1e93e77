// Boost.Beast implementation of HttpServer: one acceptor, an io_context run by N threads, and
// one C++20 coroutine per connection running on its own strand.
//
// Timeouts (beast::tcp_stream::expires_after, a deadline for every operation that follows):
//   - a new connection has header_timeout_ms to deliver its whole first request;
//   - between keep-alive requests the connection may stay silent for idle_timeout_ms; once the
//     first byte of the next request arrives, the whole request must arrive within
//     header_timeout_ms;
//   - writing a response must finish within idle_timeout_ms.
// A connection that runs out of time is closed without a response.
//
// Stop(): closes the acceptor, waits (up to grace) until no request is between "handler called"
// and "response written", then closes every connection and joins the threads. Responses written
// while stopping carry `Connection: close`.

#include <utility>  // Must precede Asio headers with GCC 12 (asio/awaitable.hpp).

#include "api/http_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/write.hpp>

#include "absl/strings/str_cat.h"

// GCC 12 reports a false -Wmismatched-new-delete for Asio's awaitable frames, which pair their
// own operator new/delete (see asio/impl/awaitable.hpp); the warning fires at the end of the
// translation unit, so it is silenced for the whole file.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace tsml::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr size_t kReadChunkBytes = 16 * 1024;
constexpr size_t kDrainLimitBytes = 4 * 1024 * 1024;
constexpr std::chrono::milliseconds kDrainTimeout{1000};
constexpr std::chrono::milliseconds kCloseWait{1000};

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Percent-decodes `in`; a malformed escape leaves the input as it was.
std::string DecodePath(std::string_view in) {
  if (in.find('%') == std::string_view::npos) return std::string(in);
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size() || !IsHexDigit(in[i + 1]) || !IsHexDigit(in[i + 2])) {
      return std::string(in);
    }
    out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
    i += 2;
  }
  return out;
}

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 24 lowercase hex digits: 32 random bits fixed per thread, then a bijective mix of a
// per-thread counter (so ids never repeat within a thread and look random).
std::string NewRequestId() {
  struct State {
    uint32_t prefix;
    uint64_t seed;
    uint64_t counter = 0;
    State() {
      std::random_device rd;
      prefix = rd();
      seed = (uint64_t{rd()} << 32) ^ rd();
    }
  };
  thread_local State state;
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t lo = SplitMix64(state.seed + state.counter++);
  std::string id(24, '0');
  for (int i = 7; i >= 0; --i) id[7 - i] = kHex[(state.prefix >> (i * 4)) & 0xf];
  for (int i = 15; i >= 0; --i) id[8 + 15 - i] = kHex[(lo >> (i * 4)) & 0xf];
  return id;
}

std::string ErrorJson(std::string_view code, std::string_view message,
                      std::string_view request_id = "") {
  // The codes and messages used here contain nothing that needs JSON escaping.
  std::string out = R"({"error":{"code":")";
  out.append(code).append(R"(","message":")").append(message).append("\"");
  if (!request_id.empty()) out.append(R"(,"requestId":")").append(request_id).append("\"");
  out += "}}";
  return out;
}

HttpResponse InternalError(const std::string& request_id) {
  HttpResponse r;
  r.status = 500;
  r.body = ErrorJson("INTERNAL", "internal error", request_id);
  return r;
}

bool IsParseError(const beast::error_code& ec) {
  static const auto& kHttpCategory = beast::http::make_error_code(http::error::bad_target).category();
  return ec.category() == kHttpCategory && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_more &&
         ec != http::error::need_buffer;
}

class BeastHttpServer;

struct Session : std::enable_shared_from_this<Session> {
  Session(BeastHttpServer* s, tcp::socket socket) : server(s), stream(std::move(socket)) {}
  ~Session();

  BeastHttpServer* server;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::string remote_address;
};

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        thread_count_(options_.threads > 0
                          ? options_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        ioc_(thread_count_),
        acceptor_(asio::make_strand(ioc_)) {}

  ~BeastHttpServer() override { Stop(5000); }

  absl::Status Start() override;
  uint16_t port() const override { return port_.load(std::memory_order_relaxed); }
  void Stop(int grace_ms) override;

  void Unregister(Session* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    if (closing_ && sessions_.empty()) cv_.notify_all();
  }

 private:
  // Counts a request from the handler call until its response is written.
  class ActiveRequest {
   public:
    explicit ActiveRequest(BeastHttpServer* s) : s_(s) { s_->active_requests_.fetch_add(1); }
    ~ActiveRequest() {
      if (s_->active_requests_.fetch_sub(1) == 1 && s_->stopping_.load()) {
        std::lock_guard<std::mutex> lock(s_->mu_);
        s_->cv_.notify_all();
      }
    }
    ActiveRequest(const ActiveRequest&) = delete;
    ActiveRequest& operator=(const ActiveRequest&) = delete;

   private:
    BeastHttpServer* s_;
  };

  bool Register(Session* s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    sessions_.insert(s);
    return true;
  }

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> RunSession(std::shared_ptr<Session> s);
  // Writes a transport-level error response, then closes gracefully (drains what the client
  // is still sending, so that it sees the response instead of a reset).
  asio::awaitable<void> FailAndClose(Session& s, int status, std::string body, unsigned version);
  HttpRequest ToHttpRequest(Session& s, http::request<http::string_body>& req);
  HttpResponse CallHandler(HttpRequest& req);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const int thread_count_;
  std::atomic<uint16_t> port_{0};

  std::mutex state_mu_;  // serializes Start/Stop
  bool started_ = false;
  bool stopped_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<Session*> sessions_;  // guarded by mu_
  bool closing_ = false;                    // guarded by mu_; no new sessions once set
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_requests_{0};

  // Declared after everything that Session destructors touch: destroying the io_context
  // destroys the coroutine frames that still own sessions.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

Session::~Session() { server->Unregister(this); }

absl::Status BeastHttpServer::Start() {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (started_) return absl::FailedPreconditionError("HTTP server already started");
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(options_.address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid listen address '", options_.address, "': ", ec.message()));
  }
  tcp::endpoint endpoint(address, options_.port);
  std::string where = absl::StrCat(options_.address, ":", options_.port);
  auto fail = [&](const char* step) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return absl::UnavailableError(absl::StrCat(step, " ", where, ": ", ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set reuse_address on");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return fail("local_endpoint of");
  port_.store(local.port());

  started_ = true;
  work_.emplace(ioc_.get_executor());
  asio::co_spawn(acceptor_.get_executor(), AcceptLoop(), asio::detached);
  threads_.reserve(thread_count_);
  for (int i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (...) {
          // A completion handler threw; the connection it belonged to is gone. Keep serving.
        }
      }
    });
  }
  return absl::OkStatus();
}

void BeastHttpServer::Stop(int grace_ms) {
  std::lock_guard<std::mutex> state_lock(state_mu_);
  if (!started_ || stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
  }
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });

  std::vector<std::shared_ptr<Session>> open;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(std::max(0, grace_ms)),
                 [this] { return active_requests_.load() == 0; });
    closing_ = true;
    open.reserve(sessions_.size());
    for (Session* s : sessions_) {
      if (auto sp = s->weak_from_this().lock()) open.push_back(std::move(sp));
    }
  }
  for (auto& sp : open) {
    auto executor = sp->stream.get_executor();
    asio::post(executor, [s = std::move(sp)] {
      beast::error_code ec;
      s->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      s->stream.close();
    });
  }
  open.clear();  // outside mu_: the last reference may run ~Session, which locks mu_
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kCloseWait, [this] { return sessions_.empty(); });
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

asio::awaitable<void> BeastHttpServer::AcceptLoop() {
  asio::steady_timer backoff(acceptor_.get_executor());
  for (;;) {
    beast::error_code ec;
    asio::any_io_executor strand = asio::make_strand(ioc_);
    tcp::socket socket =
        co_await acceptor_.async_accept(strand, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_.load() || !acceptor_.is_open()) {
        co_return;
      }
      // E.g. out of file descriptors: back off instead of spinning.
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(this, std::move(socket));
    if (!Register(session.get())) co_return;
    tcp::endpoint remote = session->stream.socket().remote_endpoint(ec);
    if (!ec) session->remote_address = remote.address().to_string();
    auto executor = session->stream.get_executor();
    asio::co_spawn(executor, RunSession(std::move(session)), asio::detached);
  }
}

HttpRequest BeastHttpServer::ToHttpRequest(Session& s, http::request<http::string_body>& req) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  std::string_view target = out.target;
  size_t q = target.find('?');
  out.path = DecodePath(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(req.body());
  out.remote_address = s.remote_address;
  const std::string& incoming_id = out.Header("x-request-id");
  out.request_id = IsSaneRequestId(incoming_id) ? incoming_id : NewRequestId();
  return out;
}

HttpResponse BeastHttpServer::CallHandler(HttpRequest& req) {
  try {
    HttpResponse res = handler_(req);
    if (res.status < 200 || res.status > 599) return InternalError(req.request_id);
    if (res.status == 204 || res.status == 304) res.body.clear();
    return res;
  } catch (...) {
    return InternalError(req.request_id);
  }
}

asio::awaitable<void> BeastHttpServer::RunSession(std::shared_ptr<Session> s) {
  const auto header_timeout = std::chrono::milliseconds(options_.header_timeout_ms);
  const auto idle_timeout = std::chrono::milliseconds(options_.idle_timeout_ms);
  beast::error_code ec;
  bool first = true;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimitBytes);
    parser.body_limit(static_cast<std::uint64_t>(options_.body_limit_bytes));

    if (!first && s->buffer.size() == 0) {
      // Idle between keep-alive requests: wait for the first byte of the next one.
      s->stream.expires_after(idle_timeout);
      size_t n = co_await s->stream.async_read_some(
          s->buffer.prepare(kReadChunkBytes), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      s->buffer.commit(n);
    }
    first = false;

    s->stream.expires_after(header_timeout);
    co_await http::async_read_header(s->stream, s->buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      const auto& head = parser.get();
      if (head.version() >= 11 &&
          beast::iequals(head[http::field::expect], beast::string_view("100-continue"))) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(s->stream, asio::buffer(kContinue.data(), kContinue.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (!ec) {
        co_await http::async_read(s->stream, s->buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (ec == http::error::body_limit) {
      co_await FailAndClose(*s, 413,
                            ErrorJson("PAYLOAD_TOO_LARGE",
                                      absl::StrCat("request body exceeds ",
                                                   options_.body_limit_bytes, " bytes")),
                            parser.is_header_done() ? parser.get().version() : 11);
      co_return;
    }
    if (ec) {
      if (IsParseError(ec)) {
        co_await FailAndClose(*s, 400, ErrorJson("VALIDATION_ERROR", "malformed HTTP request"),
                              11);
      }
      break;  // closed, reset or timed out: nobody to answer
    }

    http::request<http::string_body>& req = parser.get();
    const unsigned version = req.version();
    const bool client_keep_alive = req.keep_alive();
    ActiveRequest active(this);
    HttpRequest request = ToHttpRequest(*s, req);
    HttpResponse response = CallHandler(request);
    const bool keep_alive = client_keep_alive && !stopping_.load();

    http::response<http::string_body> res;
    try {
      res.version(version);
      res.result(static_cast<unsigned>(response.status));
      res.set(http::field::server, "tsml");
      res.set(http::field::content_type, response.content_type);
      for (const auto& [name, value] : response.headers) res.insert(name, value);
      res.set("X-Request-Id", request.request_id);
      res.keep_alive(keep_alive);
      res.body() = std::move(response.body);
      res.prepare_payload();
    } catch (...) {
      res = {};
      res.version(version);
      res.result(http::status::internal_server_error);
      res.set(http::field::server, "tsml");
      res.set(http::field::content_type, "application/json");
      res.set("X-Request-Id", request.request_id);
      res.keep_alive(false);
      res.body() = ErrorJson("INTERNAL", "internal error", request.request_id);
      res.prepare_payload();
    }
    s->stream.expires_after(idle_timeout);
    co_await http::async_write(s->stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  s->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  s->stream.close();
}

asio::awaitable<void> BeastHttpServer::FailAndClose(Session& s, int status, std::string body,
                                                    unsigned version) {
  beast::error_code ec;
  http::response<http::string_body> res;
  res.version(version == 10 ? 10 : 11);
  res.result(static_cast<unsigned>(status));
  res.set(http::field::server, "tsml");
  res.set(http::field::content_type, "application/json");
  res.set("X-Request-Id", NewRequestId());
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  s.stream.expires_after(kDrainTimeout);
  co_await http::async_write(s.stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    size_t drained = 0;
    while (!ec && drained < kDrainLimitBytes) {
      s.buffer.clear();
      drained += co_await s.stream.async_read_some(
          s.buffer.prepare(kReadChunkBytes), asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  s.stream.close();
}

}  // namespace

std::unique_ptr<HttpServer> MakeHttpServer(HttpServerOptions options, HttpHandler handler) {
  return std::make_unique<BeastHttpServer>(std::move(options), std::move(handler));
}

}  // namespace tsml::api
