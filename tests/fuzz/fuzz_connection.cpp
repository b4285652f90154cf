// libFuzzer target: whole connections into a real server instance, in-process, over
// loopback. The input is cut into writes at points it chooses itself; the server runs on its
// own libuv loop in this thread, pumped between writes, with ASan and UBSan watching. After
// the last write the client half-closes and the server must end the connection; every
// connection must be gone, and every upload committed or cleaned up, before the next input.
//
// Input layout: byte 0 seeds the split points; the rest is the byte stream of the connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "server/options.hpp"
#include "server/server.hpp"

namespace {

struct Instance {
  uv_loop_t loop{};
  std::unique_ptr<httpfs::server::Server> server;
  int port = 0;
  std::string root;

  Instance() {
    spdlog::set_level(spdlog::level::off);
    char tmpl[] = "/tmp/httpfs-fuzz-XXXXXX";
    root = ::mkdtemp(tmpl);
    namespace fs = std::filesystem;
    fs::create_directories(root + "/dir/sub");
    fs::create_directories(root + "/up");
    std::ofstream(root + "/index.html") << "<h1>index</h1>";
    std::ofstream(root + "/a.txt") << "hello";
    std::ofstream(root + "/dir/b.bin") << std::string(100000, 'b');
    std::ofstream(root + "/dir/sub/c.json") << "{}";
    uv_loop_init(&loop);
    httpfs::server::ServerOptions o;
    o.dir = root;
    o.port = 0;
    o.binds = {"127.0.0.1"};
    o.access_log = "off";
    o.durable = false;  // the disk is not under test here
    o.header_timeout_ms = 1000;
    o.body_timeout_ms = 1000;
    o.send_timeout_ms = 1000;
    o.keepalive_timeout_ms = 1000;
    o.linger_timeout_ms = 200;
    o.max_body = 1 << 20;
    server = std::make_unique<httpfs::server::Server>(&loop, o);
    if (std::string err = server->start(); !err.empty()) {
      std::fprintf(stderr, "fuzz_connection: %s\n", err.c_str());
      std::abort();
    }
    const std::string url = server->urls().front();  // http://127.0.0.1:PORT/
    port = std::atoi(url.c_str() + url.rfind(':') + 1);
  }
};

Instance& instance() {
  static Instance* i = [] {
    auto* in = new Instance();  // lives for the whole run
    std::atexit([] { std::filesystem::remove_all(instance().root); });
    return in;
  }();
  return *i;
}

void pump(Instance& in, int rounds) {
  for (int i = 0; i < rounds; ++i) uv_run(&in.loop, UV_RUN_NOWAIT);
}

// Reads and drops what the server sent; false once the server closed its side.
bool drain(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EINTR;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Instance& in = instance();
  std::mt19937 rng(data[0]);
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const std::size_t len = size - 1;

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(in.port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS on loopback
  pump(in, 2);

  bool open = true;
  for (std::size_t off = 0; off < len && open;) {
    const std::size_t piece = std::min<std::size_t>(len - off, 1 + rng() % 64);
    ssize_t n = ::send(fd, bytes + off, piece, MSG_NOSIGNAL);
    if (n > 0) off += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN) break;  // the server closed: the rest is never read
    pump(in, 2);
    open = drain(fd);
  }
  ::shutdown(fd, SHUT_WR);
  // The server must end the connection: EOF after a partial request, or after the answers.
  for (int i = 0; i < 2000 && open; ++i) {
    pump(in, 1);
    open = drain(fd);
    if (open && i > 50) uv_run(&in.loop, UV_RUN_ONCE);  // let timers (linger, commit) fire
  }
  if (open) {
    std::fprintf(stderr, "fuzz_connection: the server kept a half-closed connection open\n");
    std::abort();
  }
  ::close(fd);
  for (int i = 0; i < 1000 && in.server->connection_count() > 0; ++i) uv_run(&in.loop, UV_RUN_ONCE);
  if (in.server->connection_count() != 0) {
    std::fprintf(stderr, "fuzz_connection: a connection outlived its socket\n");
    std::abort();
  }
  return 0;
}
