// A request as handlers see it: the parsed head, the path it maps to, and who sent it.
//
// Lifetime: built by a protocol driver for one call of Handler::handle(); the head's views
// point into the driver's buffer and are valid during that call only. A handler that keeps
// anything for later (a body sink, a job) copies it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "http/target.hpp"
#include "net/address.hpp"

namespace httpfs::server {

struct Request {
  const http::RequestHead& head;   // method, target and fields
  http::RequestPath path;          // the normalised target (filled in by the Router)
  std::string user;                // who authenticated; empty when nobody did (Router)
  const net::SocketAddress& peer;  // the client's address, for log lines
  std::uint64_t now = 0;           // loop time, ms

  http::Method method() const noexcept { return head.method; }
  const http::Header* find(std::string_view lower_name) const noexcept {
    return head.find(lower_name);
  }
  bool has_body() const noexcept { return head.framing != http::BodyFraming::None; }
  // The body's length (0 without a body); nullopt when it is not known in advance
  // (chunked).
  std::optional<std::uint64_t> body_length() const noexcept {
    switch (head.framing) {
      case http::BodyFraming::None:
        return 0;
      case http::BodyFraming::Length:
        return head.content_length;
      case http::BodyFraming::Chunked:
        break;
    }
    return std::nullopt;
  }
};

}  // namespace httpfs::server
