#include "api/http_server.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "support/http_client.h"

namespace tsml::api {
namespace {

using tsml::test::HttpClient;
using namespace std::chrono_literals;

// Echoes the parsed request in headers and the body; a few paths misbehave on purpose.
HttpResponse Echo(HttpRequest& req) {
  if (req.path == "/throw") throw std::runtime_error("boom");
  if (req.path == "/slow") std::this_thread::sleep_for(500ms);
  HttpResponse res;
  res.content_type = "text/plain";
  res.headers = {{"X-Method", req.method},
                 {"X-Path", req.path},
                 {"X-Query", req.query},
                 {"X-Target", req.target},
                 {"X-Remote", req.remote_address},
                 {"X-Seen-Id", req.request_id},
                 {"X-Custom", req.Header("x-custom")}};
  res.body = req.body;
  return res;
}

bool IsHex24(const std::string& s) {
  if (s.size() != 24) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(HttpServerOptions{}); }

  void StartServer(HttpServerOptions options) {
    if (server_) server_->Stop();
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.body_limit_bytes = 1024;
    options.header_timeout_ms = 300;
    if (options.idle_timeout_ms == HttpServerOptions{}.idle_timeout_ms) {
      options.idle_timeout_ms = 5000;
    }
    server_ = MakeHttpServer(options, Echo);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GetAndPostRoundTrip) {
  HttpClient client = Client();
  auto get = client.Send("GET", "/v1/things?limit=5");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->headers["x-method"], "GET");
  EXPECT_EQ(get->headers["x-path"], "/v1/things");
  EXPECT_EQ(get->headers["x-query"], "limit=5");
  EXPECT_EQ(get->headers["x-target"], "/v1/things?limit=5");
  EXPECT_EQ(get->headers["x-remote"], "127.0.0.1");
  EXPECT_EQ(get->headers["server"], "tsml");
  EXPECT_EQ(get->headers["content-type"], "text/plain");
  EXPECT_EQ(get->headers["content-length"], "0");

  auto post = client.Send("POST", "/v1/things", R"({"a":1})", {{"X-Custom", "yes"}});
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->headers["x-method"], "POST");
  EXPECT_EQ(post->headers["x-custom"], "yes");
  EXPECT_EQ(post->body, R"({"a":1})");
  EXPECT_EQ(post->headers["content-length"], "7");
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpClient client = Client();
  for (int i = 0; i < 200; ++i) {
    auto res = client.Send("POST", "/echo", absl::StrCat("n=", i));
    ASSERT_TRUE(res.ok()) << res.status();
    ASSERT_EQ(res->body, absl::StrCat("n=", i));
  }
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  HttpClient client = Client();
  auto raw = client.SendRaw("GET /old HTTP/1.0\r\n\r\n", 2s);
  ASSERT_TRUE(raw.ok()) << raw.status();  // not DeadlineExceeded: the server closed
  EXPECT_TRUE(absl::StartsWith(*raw, "HTTP/1.0 200 OK\r\n")) << *raw;
}

TEST_F(HttpServerTest, SaneRequestIdIsEchoed) {
  HttpClient client = Client();
  auto res = client.Send("GET", "/", "", {{"X-Request-Id", "abc.DEF_123-x"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->headers["x-request-id"], "abc.DEF_123-x");
  EXPECT_EQ(res->headers["x-seen-id"], "abc.DEF_123-x");
}

TEST_F(HttpServerTest, RequestIdIsGeneratedWhenAbsent) {
  HttpClient client = Client();
  auto a = client.Send("GET", "/");
  auto b = client.Send("GET", "/");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(IsHex24(a->headers["x-request-id"])) << a->headers["x-request-id"];
  EXPECT_EQ(a->headers["x-seen-id"], a->headers["x-request-id"]);
  EXPECT_NE(a->headers["x-request-id"], b->headers["x-request-id"]);
}

TEST_F(HttpServerTest, InsaneRequestIdIsReplaced) {
  HttpClient client = Client();
  for (const std::string& bad : {std::string("has space"), std::string("semi;colon"),
                                 std::string(65, 'a'), std::string("<script>")}) {
    auto res = client.Send("GET", "/", "", {{"X-Request-Id", bad}});
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_TRUE(IsHex24(res->headers["x-request-id"])) << bad;
  }
  auto longest = client.Send("GET", "/", "", {{"X-Request-Id", std::string(64, 'z')}});
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->headers["x-request-id"], std::string(64, 'z'));
}

TEST_F(HttpServerTest, BodyOverLimitGets413AndClose) {
  HttpClient client = Client();
  auto at_limit = client.Send("POST", "/echo", std::string(1024, 'x'));
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->status, 200);

  // Large enough that the server must drain what the client still sends to deliver the 413.
  auto res = client.Send("POST", "/echo", std::string(256 * 1024, 'x'));
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->headers["content-type"], "application/json");
  EXPECT_EQ(res->headers["connection"], "close");
  EXPECT_EQ(res->body,
            R"({"error":{"code":"PAYLOAD_TOO_LARGE","message":"request body exceeds 1024 bytes"}})");
  // The client reconnects transparently afterwards.
  auto after = client.Send("GET", "/");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitGets413) {
  HttpClient client = Client();
  std::string chunk(800, 'y');
  std::string raw = absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                                 "320\r\n", chunk, "\r\n320\r\n", chunk, "\r\n0\r\n\r\n");
  auto res = client.SendRaw(raw);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_TRUE(absl::StartsWith(*res, "HTTP/1.1 413")) << *res;
  EXPECT_TRUE(absl::StrContains(*res, "PAYLOAD_TOO_LARGE"));
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  HttpClient client = Client();
  for (const char* raw : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "GET / HTTP/9.9\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"}) {
    auto res = client.SendRaw(raw);
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_TRUE(absl::StartsWith(*res, "HTTP/1.1 400 Bad Request\r\n")) << raw << " -> " << *res;
    EXPECT_TRUE(absl::StrContains(
        *res, R"({"error":{"code":"VALIDATION_ERROR","message":"malformed HTTP request"}})"))
        << *res;
  }
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  HttpClient client = Client();
  auto res = client.SendRaw(
      "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\nhi");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_TRUE(absl::StartsWith(*res, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")) << *res;
  EXPECT_TRUE(absl::EndsWith(*res, "\r\n\r\nhi")) << *res;
}

TEST_F(HttpServerTest, HandlerExceptionGives500WithRequestId) {
  HttpClient client = Client();
  auto res = client.Send("GET", "/throw", "", {{"X-Request-Id", "req-42"}});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->headers["content-type"], "application/json");
  EXPECT_EQ(res->body,
            R"({"error":{"code":"INTERNAL","message":"internal error","requestId":"req-42"}})");
  // The connection stays usable.
  auto next = client.Send("GET", "/ok");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST_F(HttpServerTest, PathIsPercentDecodedQueryIsRaw) {
  HttpClient client = Client();
  auto res = client.Send("GET", "/models/a%20b%2Fc?q=a%20b&x=1");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->headers["x-path"], "/models/a b/c");
  EXPECT_EQ(res->headers["x-query"], "q=a%20b&x=1");

  auto bad = client.Send("GET", "/models/a%zzb%2");
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_EQ(bad->headers["x-path"], "/models/a%zzb%2");
}

TEST_F(HttpServerTest, ConcurrentClientsAreAllAnswered) {
  constexpr int kThreads = 8;
  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client("127.0.0.1", server_->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = absl::StrCat(t, ":", i);
        auto res = client.Send("POST", "/c", body);
        if (res.ok() && res->status == 200 && res->body == body) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
}

TEST_F(HttpServerTest, PartialRequestIsDisconnectedAfterHeaderTimeout) {
  HttpClient client = Client();
  auto start = std::chrono::steady_clock::now();
  auto res = client.SendRaw("GET /slowloris HTTP/1.1\r\nHost: x\r\n", 5s);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res.ok()) << res.status();  // closed by the server, not by our 5 s timeout
  EXPECT_EQ(*res, "");
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAndClientReconnects) {
  HttpServerOptions options;
  options.idle_timeout_ms = 200;
  StartServer(options);
  HttpClient client = Client();
  ASSERT_TRUE(client.Send("GET", "/1").ok());
  std::this_thread::sleep_for(500ms);
  auto res = client.Send("GET", "/2");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(client.connections_opened(), 2);
}

TEST_F(HttpServerTest, StopLetsInFlightRequestFinish) {
  HttpClient idle = Client();
  ASSERT_TRUE(idle.Send("GET", "/warm").ok());  // an idle keep-alive connection to close

  absl::StatusOr<HttpClient::Response> slow = absl::UnknownError("not run");
  std::thread t([&] {
    HttpClient client("127.0.0.1", server_->port());
    slow = client.Send("GET", "/slow");
  });
  std::this_thread::sleep_for(150ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop(5000);
  auto elapsed = std::chrono::steady_clock::now() - start;
  t.join();
  ASSERT_TRUE(slow.ok()) << slow.status();
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->headers["connection"], "close");
  EXPECT_LT(elapsed, 2s);

  // Stopped: nothing listens any more, and Stop is idempotent.
  HttpClient after = Client();
  EXPECT_FALSE(after.Send("GET", "/").ok());
  server_->Stop();
  server_->Stop(0);
}

TEST_F(HttpServerTest, StopAfterGraceClosesConnectionsAndWaitsForHandler) {
  std::thread t([&] {
    HttpClient client("127.0.0.1", server_->port());
    (void)client.Send("GET", "/slow");  // may or may not get its answer
  });
  std::this_thread::sleep_for(100ms);
  auto start = std::chrono::steady_clock::now();
  server_->Stop(50);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  t.join();
}

TEST_F(HttpServerTest, StopWithoutTrafficAndDestructorAreQuick) {
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  server_->Stop();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);

  auto never_started = MakeHttpServer(HttpServerOptions{}, Echo);
  never_started->Stop();
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  HttpServerOptions options;
  options.port = server_->port();
  auto second = MakeHttpServer(options, Echo);
  absl::Status status = second->Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "bind")) << status;
}

TEST_F(HttpServerTest, BadAddressIsInvalidArgument) {
  HttpServerOptions options;
  options.address = "not-an-ip";
  options.port = 0;
  EXPECT_EQ(MakeHttpServer(options, Echo)->Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tsml::api
