#include "peer_servers.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <thread>

#include "scripted_server.hpp"

namespace httpfs::test {

using namespace std::chrono_literals;

PeerServer::PeerServer() : port_(unused_port()) {}

PeerServer::~PeerServer() {
  proc_->signal(SIGTERM);
  proc_->wait(5s);
}

std::string PeerServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void PeerServer::start(std::vector<std::string> argv, const std::string& name) {
  proc_ = std::make_unique<Process>(std::move(argv));
  for (int i = 0; i < 1000; ++i) {
    if (port_accepts(port_)) return;
    if (!proc_->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  const std::string log = dir_ / "error.log";
  throw std::runtime_error(name + " did not start: " + proc_->err() +
                           (file_exists(log) ? read_file(log) : std::string()));
}

std::unique_ptr<PeerServer> PeerServer::apache(const std::string& root) {
  std::unique_ptr<PeerServer> s(new PeerServer);
  const std::string d = s->dir_.path(), mods = "/usr/lib/apache2/modules";
  // As root, Apache insists on dropping to a user: www-data, which must read the tree.
  const std::string user = ::geteuid() == 0 ? "User www-data\nGroup www-data\n" : "";
  // mod_mime needs a types file: the system's, or an empty one of its own.
  std::string types = "/etc/mime.types";
  if (!file_exists(types)) write_file(types = d + "/mime.types", "");
  std::string conf = "ServerRoot \"" + d +
                     "\"\nServerName 127.0.0.1\nListen 127.0.0.1:" + std::to_string(s->port_) +
                     "\nPidFile \"" + d + "/apache2.pid\"\nDefaultRuntimeDir \"" + d +
                     "\"\nMutex file:" + d + " default\nErrorLog \"" + d +
                     "/error.log\"\nLogLevel warn\nTypesConfig " + types + "\n";
  for (const char* m : {"mpm_prefork", "authz_core", "mime", "dir", "autoindex", "dav", "dav_fs"})
    conf += "LoadModule " + std::string(m) + "_module " + mods + "/mod_" + m + ".so\n";
  // -X (below) serves one connection at a time: with keep-alive, a client's second connection
  // waits out the first one's KeepAliveTimeout (httpc --mirror walks listings and fetches files
  // on two connections: 45 s of waiting). Each connection serves one request and closes.
  conf += user +
          "StartServers 1\nMaxRequestWorkers 4\nKeepAlive Off\n"
          "DocumentRoot \"" +
          root + "\"\nDavLockDB \"" + d +
          "/davlock\"\n"
          "<Directory />\n  AllowOverride None\n  Require all denied\n</Directory>\n"
          "<Directory \"" +
          root +
          "\">\n  Options Indexes\n  AllowOverride None\n"
          "  Require all granted\n  Dav On\n</Directory>\n";
  write_file(d + "/apache2.conf", conf);
  // www-data must be able to read (and, for WebDAV, write) the tree and the lock database.
  if (!user.empty()) run({"/bin/chown", "-R", "www-data:www-data", root, d}, 30s);
  s->start({"/usr/sbin/apache2", "-X", "-d", d, "-f", d + "/apache2.conf"}, "apache2");
  return s;
}

std::unique_ptr<PeerServer> PeerServer::lighttpd(const std::string& root) {
  std::unique_ptr<PeerServer> s(new PeerServer);
  const std::string d = s->dir_.path();
  write_file(d + "/lighttpd.conf",
             "server.document-root = \"" + root +
                 "\"\nserver.bind = \"127.0.0.1\"\n"
                 "server.port = " +
                 std::to_string(s->port_) + "\nserver.errorlog = \"" + d +
                 "/error.log\"\nserver.modules += ( \"mod_dirlisting\" )\n"
                 "dir-listing.activate = \"enable\"\n"
                 "mimetype.assign = ( \"\" => \"application/octet-stream\" )\n");
  s->start({"/usr/sbin/lighttpd", "-D", "-f", d + "/lighttpd.conf"}, "lighttpd");
  return s;
}

}  // namespace httpfs::test
