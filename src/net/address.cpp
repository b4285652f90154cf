#include "net/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace httpfs::net {

std::optional<SocketAddress> SocketAddress::parse(std::string_view host, std::uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string h(host);
  SocketAddress a;
  if (inet_pton(AF_INET, h.c_str(), &a.u_.v4.sin_addr) == 1) {
    a.u_.v4.sin_family = AF_INET;
    a.u_.v4.sin_port = htons(port);
    return a;
  }
  if (inet_pton(AF_INET6, h.c_str(), &a.u_.v6.sin6_addr) == 1) {
    a.u_.v6.sin6_family = AF_INET6;
    a.u_.v6.sin6_port = htons(port);
    return a;
  }
  return std::nullopt;
}

SocketAddress SocketAddress::from(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  std::memcpy(&a.u_, sa, std::min<std::size_t>(len, sizeof a.u_));
  return a;
}

std::uint16_t SocketAddress::port() const noexcept {
  return ntohs(u_.sa.sa_family == AF_INET6 ? u_.v6.sin6_port : u_.v4.sin_port);
}

bool SocketAddress::is_wildcard() const noexcept {
  if (u_.sa.sa_family == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&u_.v6.sin6_addr);
  return u_.v4.sin_addr.s_addr == htonl(INADDR_ANY);
}

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (u_.sa.sa_family == AF_INET6) {
    if (IN6_IS_ADDR_V4MAPPED(&u_.v6.sin6_addr)) {
      inet_ntop(AF_INET, &u_.v6.sin6_addr.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &u_.v6.sin6_addr, buf, sizeof buf);
    }
  } else if (u_.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &u_.v4.sin_addr, buf, sizeof buf);
  }
  return buf;
}

std::string SocketAddress::url(std::string_view scheme) const {
  std::string h = host();
  bool v6 = h.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(port()) +
         "/";
}

}  // namespace httpfs::net
