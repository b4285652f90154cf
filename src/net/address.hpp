// IPv4 and IPv6 socket addresses.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpfs::net {

class SocketAddress {
 public:
  SocketAddress() = default;
  // A numeric IPv4 or IPv6 address (brackets allowed around IPv6) and a port.
  static std::optional<SocketAddress> parse(std::string_view host, std::uint16_t port);
  static SocketAddress from(const sockaddr* sa, socklen_t len);

  const sockaddr* get() const noexcept { return &u_.sa; }
  sockaddr* get() noexcept { return &u_.sa; }
  socklen_t length() const noexcept {
    return u_.sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  int family() const noexcept { return u_.sa.sa_family; }
  std::uint16_t port() const noexcept;
  bool is_wildcard() const noexcept;

  // "192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6 address shows as IPv4.
  std::string host() const;
  // "http://192.0.2.1:80/", "http://[2001:db8::1]:80/".
  std::string url(std::string_view scheme = "http") const;

 private:
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u_{};
};

}  // namespace httpfs::net
