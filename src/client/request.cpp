#include "client/request.hpp"

#include <algorithm>
#include <cstdio>

#include "client/policy.hpp"
#include "http/chars.hpp"
#include "net/output_queue.hpp"

namespace httpfs::client {

std::string request_head(const RequestSpec& spec) {
  std::string head;
  head.reserve(256);
  const bool via_proxy = spec.proxy && spec.url.scheme == "http";
  head.append(spec.method)
      .append(" ")
      .append(via_proxy ? spec.url.to_string() : spec.url.target)
      .append(" HTTP/1.1\r\n");
  auto add = [&](std::string_view n, std::string_view v) {
    head.append(n).append(": ").append(v).append("\r\n");
  };
  if (via_proxy && !spec.proxy->authorization.empty())
    add("Proxy-Authorization", spec.proxy->authorization);
  if (!has_header(spec.headers, "host")) add("Host", spec.url.host_header());
  if (!has_header(spec.headers, "user-agent")) add("User-Agent", "httpc/" HTTPFS_VERSION);
  if (!has_header(spec.headers, "accept")) add("Accept", "*/*");
  for (const auto& [n, v] : spec.headers) add(n, v);
  switch (spec.body) {
    case RequestSpec::Body::None:
      if (spec.method == "POST" || spec.method == "PUT") add("Content-Length", "0");
      break;
    case RequestSpec::Body::Bytes:
      add("Content-Length", std::to_string(spec.bytes.size()));
      break;
    case RequestSpec::Body::File:
      add("Content-Length", std::to_string(spec.file_size));
      break;
    case RequestSpec::Body::Stream:
      add("Transfer-Encoding", "chunked");
      break;
    case RequestSpec::Body::Parts:
      add("Content-Length", std::to_string(parts_length(spec.parts)));
      break;
  }
  if (spec.expect_continue) add("Expect", "100-continue");
  head += "\r\n";
  return head;
}

std::string connect_head(const RequestSpec& spec) {
  // RFC 9110 9.3.6: the authority form, host and port always.
  const std::string authority = (spec.url.ip_literal && spec.url.host.find(':') != std::string::npos
                                     ? "[" + spec.url.host + "]"
                                     : spec.url.host) +
                                ":" + std::to_string(spec.url.port);
  std::string head = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                     "\r\nUser-Agent: httpc/" HTTPFS_VERSION "\r\n";
  if (!spec.proxy->authorization.empty())
    head += "Proxy-Authorization: " + spec.proxy->authorization + "\r\n";
  return head + "\r\n";
}

std::uint64_t parts_length(const std::vector<RequestSpec::Part>& parts) noexcept {
  std::uint64_t n = 0;
  for (const RequestSpec::Part& p : parts) n += p.fd >= 0 ? p.length : p.bytes.size();
  return n;
}

void queue_parts(net::OutputQueue& out, const std::vector<RequestSpec::Part>& parts,
                 std::uint64_t offset, std::uint64_t length) {
  for (const RequestSpec::Part& p : parts) {
    const std::uint64_t size = p.fd >= 0 ? p.length : p.bytes.size();
    if (offset >= size) {
      offset -= size;
      continue;
    }
    const std::uint64_t take = std::min(size - offset, length);
    if (p.fd >= 0)
      out.add_file(p.fd, p.offset + offset, take, /*owns_fd=*/false);
    else
      out.append(std::string_view(p.bytes).substr(static_cast<std::size_t>(offset),
                                                  static_cast<std::size_t>(take)));
    length -= take;
    offset = 0;
    if (length == 0) return;
  }
}

void print_verbose(std::string_view prefix, std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::fprintf(stderr, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
                 static_cast<int>(line.size()), line.data());
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace httpfs::client
