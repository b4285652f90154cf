// Apache (Debian apache2-bin: the binary and its modules, no system service) and lighttpd
// serving a directory on a free 127.0.0.1 port, each in the foreground with a configuration
// of its own: directory index pages (mod_autoindex, mod_dirlisting) and, for Apache,
// WebDAV (mod_dav_fs: PUT, MKCOL, DELETE) on the whole tree.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "process.hpp"

namespace httpfs::test {

class PeerServer {
 public:
  static std::unique_ptr<PeerServer> apache(const std::string& root);
  static std::unique_ptr<PeerServer> lighttpd(const std::string& root);
  ~PeerServer();
  int port() const { return port_; }
  std::string url(std::string_view path = "/") const;

 private:
  PeerServer();
  // Starts argv and waits until it accepts on port_; throws with its error log otherwise.
  void start(std::vector<std::string> argv, const std::string& name);

  TempDir dir_;  // configuration, pid file, logs
  std::unique_ptr<Process> proc_;
  int port_ = 0;
};

}  // namespace httpfs::test
