// Many raw client connections at once, for the hardening tests: open them, trickle bytes on
// all of them, and watch which ones the server closed, from one thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::test {

class Swarm {
 public:
  // Opens n connections to 127.0.0.1:port and sends `first` on each (non-blocking sockets,
  // connected in batches so that the listen backlog never overflows). Throws when a socket
  // cannot be made or a connection fails.
  Swarm(int port, std::size_t n, std::string_view first = {});
  ~Swarm();
  Swarm(const Swarm&) = delete;
  Swarm& operator=(const Swarm&) = delete;

  std::size_t size() const { return fds_.size(); }
  // Sends bytes on every connection still open (what the socket does not take at once is
  // dropped); a send that fails marks the connection closed.
  void send_all(std::string_view bytes);
  // Reads and discards what arrived on every connection, marking the ones the peer closed
  // (EOF or reset). Returns how many are still open.
  std::size_t poll_open();
  // Total bytes received so far over all connections.
  std::size_t received() const { return received_; }
  // Closes every connection: with `reset`, by RST (SO_LINGER 0) rather than FIN.
  void close_all(bool reset);

 private:
  std::vector<int> fds_;  // -1 once closed
  std::size_t received_ = 0;
};

}  // namespace httpfs::test
