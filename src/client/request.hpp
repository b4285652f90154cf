// The request one Transfer sends: what the Session asks for, and its head on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/url.hpp"

namespace httpfs::net {
class TlsContext;
class OutputQueue;
}  // namespace httpfs::net

namespace httpfs::client {

class ConnectionPool;

struct RequestSpec {
  std::string method = "GET";
  http::Url url;
  // Every header but Host, User-Agent, Accept and the framing, which are added unless
  // present here.
  std::vector<std::pair<std::string, std::string>> headers;
  // Parts: bytes and file ranges in a row (a multipart/form-data body, -F), each file range
  // sent with sendfile(2); its length is known in advance.
  enum class Body { None, Bytes, File, Stream, Parts } body = Body::None;
  struct Part {
    std::string bytes;  // when fd < 0
    int fd = -1;        // a file range: owned by the caller
    std::uint64_t offset = 0, length = 0;
  };
  std::vector<Part> parts;
  std::string bytes;              // Bytes
  int file_fd = -1;               // File: read with sendfile(2); owned by the caller
  std::uint64_t file_offset = 0;  // File: where the body starts in it
  std::uint64_t file_size = 0;    // File: the body's length
  int stream_fd = -1;             // Stream (a pipe or terminal): sent chunked until EOF
  bool expect_continue = false;
  // --http2-prior-knowledge: a plain connection speaks HTTP/2 from its first byte. (Over
  // TLS, HTTP/2 is what ALPN chose: the TlsContext offers h2 for --http2.)
  bool h2_prior_knowledge = false;
  bool verbose = false;  // print both heads on stderr
  double connect_timeout = 10;
  int ip_family = 0;  // AF_INET or AF_INET6 only (-4, -6); 0: either
  // --limit-rate: bytes per second an HTTP/1.1 answer is read at, on average; 0: no limit.
  std::uint64_t limit_rate = 0;
  // Through an HTTP proxy: an http URL is asked of it in absolute form, an https one through
  // a CONNECT tunnel, in which TLS verifies the origin's certificate as without a proxy.
  struct Proxy {
    std::string host;
    std::uint16_t port = 0;
    std::string authorization;  // the Proxy-Authorization value, or ""
  };
  std::optional<Proxy> proxy;
  // For https: trust settings, shared by every attempt and redirect. Not owned.
  const net::TlsContext* tls = nullptr;  // Where an HTTP/1.1 connection goes when its exchange ends
                                         // cleanly, and where the next
  // request to the same origin looks first (client/connection_pool.hpp). Not owned; null:
  // one connection per request.
  ConnectionPool* pool = nullptr;
};

// The request head: the request line, Host, User-Agent and Accept (unless the spec has
// them), the spec's headers, the framing of its body and Expect. Through a proxy (http):
// the target in absolute form and Proxy-Authorization.
std::string request_head(const RequestSpec& spec);
// The CONNECT request that opens a tunnel to the spec's origin through its proxy.
std::string connect_head(const RequestSpec& spec);
// The length of a Parts body.
std::uint64_t parts_length(const std::vector<RequestSpec::Part>& parts) noexcept;
// Queues `length` bytes of a Parts body from `offset` on: bytes copied, file ranges as
// files (sendfile, or pread under TLS).
void queue_parts(net::OutputQueue& out, const std::vector<RequestSpec::Part>& parts,
                 std::uint64_t offset, std::uint64_t length);

// -v: each line of `text` on stderr behind `prefix` ("> " sent, "< " received, "* " notes).
void print_verbose(std::string_view prefix, std::string_view text);

}  // namespace httpfs::client
