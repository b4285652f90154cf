// Several httpfs processes over one shared directory (issue 19), on the real thing: a
// GlusterFS volume (two bricks, distribute) mounted twice with FUSE on loopback, instance A
// serving it through mount m1 and instance B through mount m2, as two hosts would, and an
// HAProxy in front of both. Every promise the README makes must hold across instances:
//   - an upload, a replacement and a DELETE through one are served by the other within
//     kPropagationBound
//   - `If-None-Match: *` creates raced through A and B: exactly one 201, one 412
//   - `If-Match` updates raced through A and B: exactly one wins, none is lost silently
//   - ETags are strong and the same through either instance
//   - a WebDAV lock taken through one binds writes through the other
//   - a resumable upload started through one is finished through the other
//   - a file replaced through A is never served by B as a mix of two versions
//   - kill -9 of A mid-upload leaves nothing under the target's name
//   - a mixed run through HAProxy succeeds
// The volume and the processes are brought up once for the whole run (gluster.sh) and torn
// down at exit, whatever failed. Skipped, with the reason, only where the machine cannot run
// it: not root, no /dev/fuse, GlusterFS or HAProxy not installed.
//
// HTTPFS_SCALE_SERVER_ARGS replaces the instances' extra arguments (default "--shared-fs"),
// e.g. to run the suite against a build without that option.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;
using httpfs::http::Method;
namespace fs = std::filesystem;
using Fields = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

namespace {

// How long a change made through one instance may take to be served by the other: the
// README's bound for mounts set up as gluster.sh does (changes typically show within a few
// ms; the margin is for a loaded machine). Each test says the delay it measured. Without
// --shared-fs the small-file cache would serve a replaced file for up to a second.
constexpr auto kPropagationBound = 500ms;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---- the machine -------------------------------------------------------------------------

// The path of an installed program (PATH, then the sbin directories that a non-login root
// shell may lack), or "" when there is none.
std::string find_program(const std::string& name) {
  std::vector<std::string> dirs;
  std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  for (std::string d; std::getline(path, d, ':');) dirs.push_back(d);
  dirs.insert(dirs.end(), {"/usr/sbin", "/sbin", "/usr/bin", "/bin"});
  for (const std::string& d : dirs)
    if (!d.empty() && ::access((d + "/" + name).c_str(), X_OK) == 0) return d + "/" + name;
  return "";
}

// Why this machine cannot run the suite at all, or "".
std::string why_not_runnable() {
  if (::geteuid() != 0) return "needs root (FUSE mounts and glusterd)";
  struct stat st {};
  if (::stat("/dev/fuse", &st) != 0 || !S_ISCHR(st.st_mode)) return "no /dev/fuse";
  for (const auto& [program, package] :
       std::vector<std::pair<std::string, std::string>>{{"glusterd", "glusterfs-server"},
                                                        {"gluster", "glusterfs-server"},
                                                        {"glusterfs", "glusterfs-client"},
                                                        {"haproxy", "haproxy"}})
    if (find_program(program).empty())
      return program + " is not installed (Debian package " + package + ")";
  return "";
}

// gluster.sh: from meson ($HTTPFS_GLUSTER_SCRIPT), else beside this source file, whose name
// the compiler may have been given relative to the build directory: one of the directories
// above this executable.
std::string gluster_script() {
  const char* env = std::getenv("HTTPFS_GLUSTER_SCRIPT");
  if (env != nullptr && *env != '\0') return env;
  const fs::path beside = fs::path(__FILE__).parent_path() / "gluster.sh";
  std::error_code ec;
  for (fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
       beside.is_relative() && !ec && dir.has_relative_path(); dir = dir.parent_path())
    if (fs::exists(dir / beside)) return (dir / beside).lexically_normal().string();
  return beside.string();
}

std::vector<std::string> server_args() {
  const char* env = std::getenv("HTTPFS_SCALE_SERVER_ARGS");
  std::istringstream in(env != nullptr ? env : "--shared-fs");
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  return args;
}

// A port nothing listens on now, for HAProxy's configuration (which needs it before start).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool mounted(const std::string& dir) {
  std::ifstream mounts("/proc/mounts");
  for (std::string line; std::getline(mounts, line);) {
    std::istringstream fields(line);
    std::string device, point;
    fields >> device >> point;
    if (point == dir) return true;
  }
  return false;
}

// ---- the processes -----------------------------------------------------------------------

// One httpfs serving `root`, a directory on one of the mounts. Unlike ServerProcess it can
// be killed and restarted on the same port (HAProxy's configuration names it), and it makes
// no test assertion on its own: the fixture outlives every test case.
class Instance {
 public:
  Instance(std::string name, std::string root, std::string logs)
      : name_(std::move(name)), root_(std::move(root)), logs_(std::move(logs)) {
    start();
  }
  ~Instance() {
    if (proc_ && proc_->running()) {
      proc_->signal(SIGTERM);
      if (!proc_->wait(10s)) proc_->signal(SIGKILL);
    }
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // Starts the process (again, after a kill, on the port it had).
  void start() {
    if (proc_) earlier_err_ += proc_->err();
    std::vector<std::string> argv = {binary("httpfs")};
    for (const std::string& a : server_args()) argv.push_back(a);
    argv.insert(argv.end(),
                {"-p", std::to_string(port_), "-b", "127.0.0.1", "-d", root_, "--access-log",
                 logs_ + "/" + name_ + "-" + std::to_string(++starts_) + ".log"});
    proc_ = std::make_unique<Process>(argv);
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      const std::string out = proc_->out();
      const std::size_t at = out.find("://127.0.0.1:");
      if (at != std::string::npos && out.find('/', at + 13) != std::string::npos) {
        port_ = std::stoi(out.substr(at + 13));
        return;
      }
      if (!proc_->running())
        throw std::runtime_error("httpfs " + name_ + " exited at start: " + proc_->err());
      std::this_thread::sleep_for(5ms);
    }
    throw std::runtime_error("httpfs " + name_ + " did not print its URL: " + proc_->err());
  }
  void kill9() {
    proc_->signal(SIGKILL);
    proc_->wait(10s);
  }
  // SIGTERM; the exit status, or -1 when it did not exit in time.
  int stop() {
    proc_->signal(SIGTERM);
    return proc_->wait(15s).value_or(-1);
  }
  int port() const { return port_; }
  pid_t pid() const { return proc_->pid(); }
  // What it wrote to stderr, in all its starts.
  std::string err() const { return earlier_err_ + proc_->err(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_, root_, logs_, earlier_err_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<Process> proc_;
};

// HAProxy in front of A and B, round robin, checking both every 200 ms. Each answer says
// which instance gave it (X-Served-By), for the tests to show both were used.
class Proxy {
 public:
  Proxy(const std::string& dir, int a, int b) : port_(free_port()) {
    const std::string cfg = dir + "/haproxy.cfg";
    std::ostringstream text;
    text << "global\n"
         << "  maxconn 512\n"
         << "defaults\n"
         << "  mode http\n"
         << "  timeout connect 2s\n"
         << "  timeout client 30s\n"
         << "  timeout server 30s\n"
         << "  timeout http-request 10s\n"
         << "  option http-keep-alive\n"
         << "  retries 2\n"
         << "  option redispatch\n"
         << "frontend web\n"
         << "  bind 127.0.0.1:" << port_ << "\n"
         << "  stats enable\n"
         << "  stats uri " << kStats << "\n"
         << "  default_backend httpfs\n"
         << "backend httpfs\n"
         << "  balance roundrobin\n"
         << "  http-response set-header X-Served-By %[srv_name]\n"
         << "  server a 127.0.0.1:" << a << " check inter 200\n"
         << "  server b 127.0.0.1:" << b << " check inter 200\n";
    write_file(cfg, text.str());
    proc_ = std::make_unique<Process>(
        std::vector<std::string>{find_program("haproxy"), "-f", cfg, "-db"});
    // Up when it answers and its checks have found both servers.
    const auto deadline = Clock::now() + 15s;
    while (Clock::now() < deadline) {
      if (!proc_->running()) throw std::runtime_error("haproxy exited at start: " + proc_->err());
      if (servers_up() == 2) return;
      std::this_thread::sleep_for(20ms);
    }
    throw std::runtime_error("haproxy did not report both servers up: " + proc_->err());
  }
  ~Proxy() {
    if (proc_ && proc_->running()) {
      proc_->signal(SIGUSR1);  // soft stop: ends once its connections are done
      if (!proc_->wait(5s)) proc_->signal(SIGKILL);
    }
  }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  int port() const { return port_; }
  // How many of A and B HAProxy's checks find up now.
  int servers_up() const {
    Response r;
    try {
      r = get(port_, std::string(kStats) + ";csv");
    } catch (const std::exception&) {
      return 0;  // not listening yet
    }
    if (r.status != 200) return 0;
    std::istringstream lines(r.body);
    std::string line;
    std::getline(lines, line);  // "# pxname,svname,...,status,..."
    const std::vector<std::string> head = split(line.substr(line.find_first_not_of("# ")));
    const auto at = std::find(head.begin(), head.end(), "status") - head.begin();
    int up = 0;
    while (std::getline(lines, line)) {
      const std::vector<std::string> f = split(line);
      if (f.size() > static_cast<std::size_t>(at) && f[0] == "httpfs" &&
          (f[1] == "a" || f[1] == "b") && f[static_cast<std::size_t>(at)] == "UP")
        ++up;
    }
    return up;
  }

 private:
  static constexpr std::string_view kStats = "/.haproxy-stats";
  static std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  }
  int port_;
  std::unique_ptr<Process> proc_;
};

// The volume, its two mounts, A, B and HAProxy, for the whole run.
class Cluster {
 public:
  Cluster() {
    std::string tmpl = "/tmp/httpfs-scale-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    // A constructor that throws runs no destructor: what it started is ended here.
    try {
      bring_up();
    } catch (...) {
      tear_down();
      throw;
    }
  }
  ~Cluster() { tear_down(); }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Instance& a() { return *a_; }
  Instance& b() { return *b_; }
  Proxy& proxy() { return *proxy_; }
  std::string m1() const { return dir_ + "/m1"; }
  std::string m2() const { return dir_ + "/m2"; }
  long long up_ms() const { return up_ms_; }
  // Hands HAProxy over, for the last test to end it before it stops the instances.
  std::unique_ptr<Proxy> take_proxy() { return std::move(proxy_); }

 private:
  void bring_up() {
    const auto start = Clock::now();
    const RunResult up = run({"/bin/bash", gluster_script(), "up", dir_}, 180s);
    if (up.status != 0)
      throw std::runtime_error("gluster.sh up failed (" + std::to_string(up.status) +
                               "): " + up.err + up.out);
    up_ms_ = ms_since(start);
    std::cerr << "scale: GlusterFS up in " << up_ms_ << " ms under " << dir_ << "\n";
    fs::create_directory(m1() + "/root");
    const auto deadline = Clock::now() + 10s;
    while (!fs::is_directory(m2() + "/root")) {
      if (Clock::now() > deadline) throw std::runtime_error("m2 never saw the root made in m1");
      std::this_thread::sleep_for(10ms);
    }
    fs::create_directories(dir_ + "/logs");
    a_ = std::make_unique<Instance>("A", m1() + "/root", dir_ + "/logs");
    b_ = std::make_unique<Instance>("B", m2() + "/root", dir_ + "/logs");
    proxy_ = std::make_unique<Proxy>(dir_, a_->port(), b_->port());
  }

  // Whatever the tests did: stop the processes, then the volume; the directory goes only when
  // nothing is mounted in it any more (else removing it would reach into the volume).
  void tear_down() {
    proxy_.reset();
    // What A and B logged (a line for each error they answered), for a failure's reasons.
    for (std::unique_ptr<Instance>* i : {&a_, &b_}) {
      if (!*i) continue;
      const std::string err = (*i)->err();
      std::cerr << "scale: " << (*i)->name() << "'s stderr:" << (err.empty() ? " nothing\n" : "\n")
                << err;
      i->reset();
    }
    const auto start = Clock::now();
    const RunResult down = run({"/bin/bash", gluster_script(), "down", dir_}, 120s);
    std::cerr << "scale: GlusterFS down in " << ms_since(start) << " ms\n";
    if (down.status != 0) {
      std::cerr << "scale: gluster.sh down failed (" << down.status << "), " << dir_
                << " is left as it is:\n"
                << down.err << down.out;
      return;
    }
    if (!mounted(m1()) && !mounted(m2())) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  std::string dir_;
  long long up_ms_ = 0;
  std::unique_ptr<Instance> a_, b_;
  std::unique_ptr<Proxy> proxy_;
};

// The cluster, brought up by the first test that asks; nullptr (after saying why, once on
// stderr and in each test) when this machine cannot run the suite. When bringing it up
// failed, every test fails with that reason.
Cluster* cluster_or_skip() {
  static const std::string why_not = why_not_runnable();
  if (!why_not.empty()) {
    static const bool said = (std::cerr << "scale: skipped: " << why_not << "\n", true);
    (void)said;
    MESSAGE("skipped: " << why_not);
    return nullptr;
  }
  static std::string failed;
  static std::unique_ptr<Cluster> cluster = [] {
    try {
      return std::make_unique<Cluster>();
    } catch (const std::exception& e) {
      failed = e.what();
      return std::unique_ptr<Cluster>();
    }
  }();
  if (!cluster) FAIL("the cluster did not come up: " << failed);
  return cluster.get();
}

// ---- requests ----------------------------------------------------------------------------

// "METHOD path HTTP/1.1" with Host, `fields` and `body`; a Content-Length whenever there is a
// body or the method takes one (an empty PUT is a zero-length file).
std::string raw(std::string_view method, std::string_view path, const Fields& fields = {},
                std::string_view body = {}) {
  std::string r = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: h\r\n";
  for (const std::string& f : fields) r += f + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

Response ask(int port, std::string_view method, std::string_view path, const Fields& fields = {},
             std::string_view body = {}) {
  return request(port, raw(method, path, fields, body), httpfs::http::method_from_token(method));
}

Response put(int port, std::string_view path, std::string_view body, const Fields& fields = {}) {
  return ask(port, "PUT", path, fields, body);
}

// Polls GET `path` on `port` until `done` holds for the answer or kPropagationBound passes;
// how long that took, or nullopt. The last answer goes to `last`.
std::optional<long long> until(int port, const std::string& path,
                               const std::function<bool(const Response&)>& done,
                               Response* last = nullptr) {
  const auto start = Clock::now();
  for (;;) {
    const Response r = get(port, path);
    if (last != nullptr) *last = r;
    if (done(r)) return ms_since(start);
    if (Clock::now() - start > kPropagationBound) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

std::optional<long long> until_served(int port, const std::string& path, const std::string& body,
                                      Response* last = nullptr) {
  return until(
      port, path, [&](const Response& r) { return r.status == 200 && r.body == body; }, last);
}

// An answer in a line: its status and size, and its body when that is an error's text.
std::string describe(const Response& r) {
  std::string d = std::to_string(r.status) + " with " + std::to_string(r.body.size()) + " bytes";
  if (r.status >= 400 && r.body.size() <= 1000) d += ": " + r.body;
  return d;
}

// Sends each request on its own connection, all but its last byte first; once every one is
// that far, the last bytes together: the requests are in the servers at the same time, their
// preconditions and commits as close as two clients can make them. Their answers, in order.
std::vector<Response> race(const std::vector<std::pair<int, std::string>>& requests) {
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (const auto& [port, r] : requests)
    connections.push_back(std::make_unique<RawConnection>(port));
  std::vector<Response> answers(requests.size());
  std::latch ready(static_cast<std::ptrdiff_t>(requests.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < requests.size(); ++i)
    threads.emplace_back([&, i] {
      const std::string& r = requests[i].second;
      connections[i]->send(std::string_view(r).substr(0, r.size() - 1));
      ready.arrive_and_wait();
      connections[i]->send(std::string_view(r).substr(r.size() - 1));
      answers[i] = connections[i]->read_response(Method::Put).value_or(Response{});
    });
  for (std::thread& t : threads) t.join();
  return answers;
}

bool is_2xx(const Response& r) {
  return r.status / 100 == 2;
}

// ---- WebDAV ------------------------------------------------------------------------------

std::string lockinfo() {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
         "<D:locktype><D:write/></D:locktype><D:owner>scale test</D:owner></D:lockinfo>";
}

// The token of a LOCK answer's Lock-Token header, without its angle brackets.
std::string lock_token(const Response& r) {
  std::string t = r.header("Lock-Token");
  if (t.size() >= 2 && t.front() == '<' && t.back() == '>') t = t.substr(1, t.size() - 2);
  return t;
}

// ---- resumable uploads (draft-ietf-httpbis-resumable-upload, interop version 8) -----------

Fields creating() {
  return {"Upload-Draft-Interop-Version: 8", "Upload-Complete: ?0"};
}

Fields appending(std::size_t offset, bool complete) {
  return {"Upload-Draft-Interop-Version: 8", "Content-Type: application/partial-upload",
          "Upload-Offset: " + std::to_string(offset),
          std::string("Upload-Complete: ") + (complete ? "?1" : "?0")};
}

}  // namespace

// ---- the promises ------------------------------------------------------------------------

TEST_CASE("an upload, a replacement and a DELETE through one instance reach the other in time") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  struct Way {
    std::string name;
    int from, to;
  };
  for (const Way& w :
       {Way{"A to B", c->a().port(), c->b().port()}, Way{"B to A", c->b().port(), c->a().port()}}) {
    CAPTURE(w.name);
    const std::string path = std::string("/propagation/") + (w.from == c->a().port() ? "ab" : "ba");
    // Small files, which the cache holds: a stale cache entry would show here. The other
    // instance asks first, so that anything it remembers of "missing" would show too.
    const std::string first = random_bytes(1000, 1), second = random_bytes(1000, 2);
    REQUIRE(get(w.to, path).status == 404);

    REQUIRE(put(w.from, path, first).status == 201);
    Response last;
    std::optional<long long> took = until_served(w.to, path, first, &last);
    CHECK_MESSAGE(took,
                  "not served after " << kPropagationBound.count() << " ms: " << describe(last));
    MESSAGE(w.name << ": a new file served after " << took.value_or(-1) << " ms");

    // Same size, so only the content and the times tell the versions apart.
    for (int i = 0; i < 3; ++i) REQUIRE(get(w.to, path).body == first);
    REQUIRE(put(w.from, path, second).status == 204);
    took = until_served(w.to, path, second, &last);
    CHECK_MESSAGE(took, "the replacement not served after " << kPropagationBound.count()
                                                            << " ms: " << describe(last));
    MESSAGE(w.name << ": a replacement served after " << took.value_or(-1) << " ms");

    REQUIRE(ask(w.from, "DELETE", path).status == 204);
    took = until(
        w.to, path, [](const Response& r) { return r.status == 404; }, &last);
    CHECK_MESSAGE(took, "still served " << kPropagationBound.count()
                                        << " ms after its DELETE: " << describe(last));
    MESSAGE(w.name << ": a DELETE seen after " << took.value_or(-1) << " ms");
  }
}

TEST_CASE("If-None-Match: * creates raced through A and B: exactly one 201 and one 412") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  struct Mode {
    std::string name;
    int first, second;
    int rounds;
  };
  for (const Mode& m : {Mode{"direct", c->a().port(), c->b().port(), 20},
                        Mode{"haproxy", c->proxy().port(), c->proxy().port(), 10}}) {
    std::set<std::string> served_by;
    int wrong = 0;
    std::string outcomes;  // each round's two statuses
    for (int i = 0; i < m.rounds; ++i) {
      const std::string path = "/create-race/" + m.name + "-" + std::to_string(i);
      CAPTURE(path);
      const std::string one = random_bytes(64 << 10, 100 + 2 * i);
      const std::string two = random_bytes(64 << 10, 101 + 2 * i);
      const std::vector<Response> r =
          race({{m.first, raw("PUT", path, {"If-None-Match: *"}, one)},
                {m.second, raw("PUT", path, {"If-None-Match: *"}, two)}});
      outcomes += " " + std::to_string(r[0].status) + "/" + std::to_string(r[1].status);
      for (const Response& x : r) served_by.insert(x.header("X-Served-By"));
      const bool right =
          std::multiset<int>{r[0].status, r[1].status} == std::multiset<int>{201, 412};
      wrong += !right;
      // The file holds the winner's bytes, whoever is asked and on either mount.
      if (right) {
        const std::string& winner = r[0].status == 201 ? one : two;
        CHECK(until_served(c->a().port(), path, winner));
        CHECK(until_served(c->b().port(), path, winner));
        CHECK(read_file(c->m1() + "/root" + path) == winner);
        CHECK(read_file(c->m2() + "/root" + path) == winner);
      }
    }
    CHECK_MESSAGE(wrong == 0, m.name << ": " << wrong << " of " << m.rounds
                                     << " rounds were not one 201 and one 412:" << outcomes);
    if (m.name == "haproxy") {
      MESSAGE("through HAProxy the racers were served by: " << served_by.size() << " instance(s)");
      CHECK(served_by == std::set<std::string>{"a", "b"});
    }
  }
}

TEST_CASE("If-Match updates raced through A and B: one wins, the other is 412, none is lost") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  struct Mode {
    std::string name;
    int first, second;
    int rounds;
  };
  for (const Mode& m : {Mode{"direct", c->a().port(), c->b().port(), 20},
                        Mode{"haproxy", c->proxy().port(), c->proxy().port(), 10}}) {
    const std::string path = "/update-race/" + m.name;
    REQUIRE(put(c->a().port(), path, "version 0").status == 201);
    REQUIRE(until_served(c->b().port(), path, "version 0"));
    std::string current = "version 0";
    int lost = 0, refused_both = 0;
    std::string outcomes;  // each round's two statuses
    for (int i = 0; i < m.rounds; ++i) {
      CAPTURE(i);
      // The current ETag, agreed by both instances: both racers name it.
      const Response now = get(c->a().port(), path);
      REQUIRE(now.body == current);
      const std::string etag = now.header("ETag");
      REQUIRE(!etag.empty());
      REQUIRE(get(c->b().port(), path).header("ETag") == etag);
      const std::string one = random_bytes(64 << 10, 300 + 2 * i);
      const std::string two = random_bytes(64 << 10, 301 + 2 * i);
      const std::vector<Response> r =
          race({{m.first, raw("PUT", path, {"If-Match: " + etag}, one)},
                {m.second, raw("PUT", path, {"If-Match: " + etag}, two)}});
      outcomes += " " + std::to_string(r[0].status) + "/" + std::to_string(r[1].status);
      const int wins = is_2xx(r[0]) + is_2xx(r[1]);
      lost += wins == 2;
      refused_both += wins == 0;
      // The loser is refused as a failed precondition, not as an error.
      if (wins == 1) CHECK((r[0].status == 412 || r[1].status == 412));
      // The file is the one winner's, everywhere; after a lost update, what the volume holds.
      current = wins == 1 ? (is_2xx(r[0]) ? one : two) : read_file(c->m1() + "/root" + path);
      CHECK(until_served(c->a().port(), path, current));
      CHECK(until_served(c->b().port(), path, current));
      CHECK(read_file(c->m1() + "/root" + path) == current);
      CHECK(read_file(c->m2() + "/root" + path) == current);
    }
    INFO(m.name << ", each round's two answers:" << outcomes);
    // Two successes are a lost update; two refusals refuse a precondition that held.
    CHECK_MESSAGE(lost == 0, lost << " of " << m.rounds << " rounds accepted both updates");
    CHECK_MESSAGE(refused_both == 0,
                  refused_both << " of " << m.rounds << " rounds refused both updates");
    // Without a race: an ETag made stale through A is refused through B.
    const std::string old_etag = get(c->a().port(), path).header("ETag");
    REQUIRE(put(c->a().port(), path, "next", {"If-Match: " + old_etag}).status / 100 == 2);
    CHECK(put(c->b().port(), path, "stale", {"If-Match: " + old_etag}).status == 412);
    CHECK(get(c->a().port(), path).body == "next");
  }
}

TEST_CASE("ETags are strong and the same through A, B and HAProxy, and follow a change") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  const int a = c->a().port(), b = c->b().port(), p = c->proxy().port();
  // A small file (the cache's) and a larger one.
  for (const std::size_t size : {std::size_t{1000}, std::size_t{300} << 10}) {
    const std::string path = "/etags/file-" + std::to_string(size);
    CAPTURE(path);
    const Response created = put(a, path, random_bytes(size, 7));
    REQUIRE(created.status == 201);
    REQUIRE(until_served(b, path, random_bytes(size, 7)));
    const std::string etag = get(a, path).header("ETag");
    CHECK(!etag.empty());
    CHECK(!etag.starts_with("W/"));
    CHECK(etag.starts_with('"'));
    if (created.has("ETag")) CHECK(created.header("ETag") == etag);
    CHECK(get(b, path).header("ETag") == etag);
    CHECK(get(a, path, {}, "HEAD").header("ETag") == etag);
    CHECK(get(b, path, {}, "HEAD").header("ETag") == etag);
    std::set<std::string> served_by;
    for (int i = 0; i < 4; ++i) {
      const Response r = get(p, path);
      CHECK(r.header("ETag") == etag);
      served_by.insert(r.header("X-Served-By"));
    }
    CHECK(served_by == std::set<std::string>{"a", "b"});
    // A validator from one instance works on the other.
    CHECK(get(b, path, {"If-None-Match: " + etag}).status == 304);
    CHECK(get(a, path, {"If-None-Match: " + etag}).status == 304);

    // Replaced through B: A's ETag changes to B's within the bound, and the old one no
    // longer validates anywhere.
    const std::string changed = random_bytes(size, 8);
    REQUIRE(put(b, path, changed).status == 204);
    const std::string new_etag = get(b, path).header("ETag");
    CHECK(new_etag != etag);
    CHECK(until(a, path, [&](const Response& r) { return r.header("ETag") == new_etag; }));
    CHECK(get(a, path, {"If-None-Match: " + etag}).status == 200);
    CHECK(get(b, path, {"If-None-Match: " + etag}).status == 200);
  }
}

TEST_CASE("a WebDAV lock taken through one instance binds writes through the other") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  struct Mode {
    std::string name;
    int locker, writer;
  };
  for (const Mode& m : {Mode{"direct", c->a().port(), c->b().port()},
                        Mode{"haproxy", c->proxy().port(), c->proxy().port()}}) {
    CAPTURE(m.name);
    const std::string path = "/locked/" + m.name + ".txt";
    REQUIRE(put(c->a().port(), path, "before").status == 201);
    REQUIRE(until_served(c->b().port(), path, "before"));
    const Response lock = ask(m.locker, "LOCK", path, {"Timeout: Second-600"}, lockinfo());
    REQUIRE(lock.status == 200);
    const std::string token = lock_token(lock);
    REQUIRE(token.starts_with("urn:uuid:"));

    // Without the token: refused by every instance (through HAProxy, by both in turn).
    std::set<std::string> served_by;
    for (int i = 0; i < 4; ++i) {
      const Response r = put(m.writer, path, "without the token");
      CHECK(r.status == 423);
      served_by.insert(r.header("X-Served-By"));
    }
    if (m.writer == c->proxy().port()) CHECK(served_by == std::set<std::string>{"a", "b"});
    CHECK(put(c->b().port(), path, "without the token").status == 423);
    CHECK(ask(c->b().port(), "DELETE", path).status == 423);
    CHECK(ask(c->b().port(), "LOCK", path, {}, lockinfo()).status == 423);
    CHECK(read_file(c->m2() + "/root" + path) == "before");

    // With it, through the other instance.
    const Response with = put(m.writer, path, "with the token", {"If: (<" + token + ">)"});
    CHECK(is_2xx(with));
    CHECK(until_served(c->a().port(), path, "with the token"));
    CHECK(until_served(c->b().port(), path, "with the token"));

    // Unlocked through B: anyone writes again, through A too.
    REQUIRE(ask(c->b().port(), "UNLOCK", path, {"Lock-Token: <" + token + ">"}).status == 204);
    CHECK(is_2xx(put(c->a().port(), path, "after unlock")));
    CHECK(until_served(c->b().port(), path, "after unlock"));
    CHECK(is_2xx(put(m.writer, path, "after unlock, again")));
    CHECK(read_file(c->m1() + "/root" + path) == "after unlock, again");
  }
}

TEST_CASE("a resumable upload started through one instance is finished through the other") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  struct Mode {
    std::string name;
    int creator, finisher;
  };
  for (const Mode& m : {Mode{"direct", c->a().port(), c->b().port()},
                        Mode{"haproxy", c->proxy().port(), c->proxy().port()}}) {
    CAPTURE(m.name);
    const std::string path = "/resumable/" + m.name + ".bin";
    const std::string source = random_bytes(1 << 20, 42);
    const std::size_t first = 300 << 10, second = 700 << 10;

    // Created with the first part (read_response passes over the 104; the 201 repeats its
    // Location).
    const Response created =
        ask(m.creator, "PUT", path, creating(), std::string_view(source).substr(0, first));
    REQUIRE(created.status == 201);
    const std::string url = created.header("Location");
    REQUIRE(!url.empty());
    CHECK(created.header("Upload-Offset") == std::to_string(first));
    CHECK(get(c->b().port(), path).status == 404);

    // The other instance knows the offset, takes the next part and then the last.
    const Response offset = ask(m.finisher, "HEAD", url, {"Upload-Draft-Interop-Version: 8"});
    CHECK(offset.status == 204);
    CHECK(offset.header("Upload-Offset") == std::to_string(first));
    Response r = ask(m.finisher, "PATCH", url, appending(first, false),
                     std::string_view(source).substr(first, second - first));
    CHECK_MESSAGE(r.status == 204, r.body);
    CHECK(r.header("Upload-Offset") == std::to_string(second));
    CHECK(get(c->a().port(), path).status == 404);
    r = ask(m.finisher, "PATCH", url, appending(second, true),
            std::string_view(source).substr(second));
    CHECK_MESSAGE(r.status == 201, r.body);

    CHECK(until_served(c->a().port(), path, source));
    CHECK(until_served(c->b().port(), path, source));
    CHECK(read_file(c->m1() + "/root" + path) == source);
    CHECK(get(c->a().port(), path).header("ETag") == r.header("ETag"));
    // Both instances say the upload is complete.
    for (const int port : {c->a().port(), c->b().port()}) {
      const Response h = ask(port, "HEAD", url, {"Upload-Draft-Interop-Version: 8"});
      CHECK(h.status == 204);
      CHECK(h.header("Upload-Complete") == "?1");
      CHECK(h.header("Upload-Offset") == std::to_string(source.size()));
    }
  }
}

TEST_CASE("a file replaced through A over and over is never served by B as a mix") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  const std::string path = "/replaced/big.bin";
  // Distinct throughout: any piece of one found in the other's place shows.
  const std::string one = random_bytes(4 << 20, 11), two = random_bytes(4 << 20, 12);
  REQUIRE(put(c->a().port(), path, one).status == 201);
  REQUIRE(until_served(c->b().port(), path, one));

  const std::string put_one = raw("PUT", path, {}, one), put_two = raw("PUT", path, {}, two);
  std::atomic<bool> stop{false};
  std::atomic<int> replaced{0}, failed_puts{0};
  std::thread writer([&] {
    for (bool which = true; !stop; which = !which) {
      const Response r = request(c->a().port(), which ? put_two : put_one, Method::Put);
      (r.status == 204 ? replaced : failed_puts)++;
    }
  });
  wait_until([&] { return replaced >= 1; }, "the first replacement is done");
  // A name that vanishes for a moment during a rename on the other mount shows in a few GETs
  // in a hundred.
  constexpr int kGets = 100;
  const int replaced_before = replaced;
  int ones = 0, twos = 0;
  std::map<std::string, int> bad;  // what else B answered, and how often
  for (int i = 0; i < kGets; ++i) {
    const Response r = get(c->b().port(), path);
    if (r.status == 200 && r.body == one)
      ++ones;
    else if (r.status == 200 && r.body == two)
      ++twos;
    else
      ++bad[r.status == 200
                ? "200 with " + std::to_string(r.body.size()) + " bytes that are neither version"
                : describe(r)];
  }
  const int replaced_during = replaced - replaced_before;
  stop = true;
  writer.join();
  MESSAGE(kGets << " GETs through B: " << ones << " of one version, " << twos
                << " of the other, while A"
                << " replaced the file " << replaced_during << " times");
  for (const auto& [what, n] : bad) MESSAGE(n << " answered " << what);
  CHECK(bad.empty());
  CHECK(failed_puts == 0);
  // Else the GETs did not overlap the replacements and proved nothing.
  CHECK(replaced_during >= 2);
}

TEST_CASE("through HAProxy, uploads and then downloads of them all succeed, on both instances") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  const int p = c->proxy().port();
  constexpr int kClients = 4, kFiles = 10;
  struct Outcome {
    std::string path, body;
    int put_status = 0;
    std::string put_by;
  };
  std::vector<Outcome> outcomes(kClients * kFiles);
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; i < kFiles; ++i) {
        Outcome& o = outcomes[static_cast<std::size_t>(t * kFiles + i)];
        o.path = "/mixed/" + std::to_string(t) + "/" + std::to_string(i) + ".bin";
        o.body = random_bytes(static_cast<std::size_t>(1000 + (t * kFiles + i) * 6007), 500 + i);
        const Response r = put(p, o.path, o.body);
        o.put_status = r.status;
        o.put_by = r.header("X-Served-By");
      }
    });
  for (std::thread& t : clients) t.join();

  std::set<std::string> puts_by, gets_by;
  for (const Outcome& o : outcomes) {
    CAPTURE(o.path);
    CHECK(o.put_status == 201);
    puts_by.insert(o.put_by);
    // Twice: round robin sends the two to different instances.
    for (int i = 0; i < 2; ++i) {
      Response last;
      CHECK_MESSAGE(until_served(p, o.path, o.body, &last), describe(last));
      gets_by.insert(last.header("X-Served-By"));
    }
  }
  CHECK(puts_by == std::set<std::string>{"a", "b"});
  CHECK(gets_by == std::set<std::string>{"a", "b"});
}

TEST_CASE("kill -9 of A mid-upload leaves nothing under the target's name; A restarts") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  const int a = c->a().port(), b = c->b().port();
  const std::string earlier = random_bytes(100 << 10, 21);
  REQUIRE(put(a, "/killed/replaced.bin", earlier).status == 201);
  REQUIRE(until_served(b, "/killed/replaced.bin", earlier));
  REQUIRE(get(b, "/killed/new.bin").status == 404);

  // Two uploads announcing 8 MiB, each 1 MiB in when A dies: one replacing a file, one new.
  constexpr std::size_t kAnnounced = 8 << 20, kSent = 1 << 20;
  const std::string part = random_bytes(kSent, 22);
  RawConnection replacing(a), creating_new(a);
  for (auto [conn, path] : {std::pair{&replacing, "/killed/replaced.bin"},
                            std::pair{&creating_new, "/killed/new.bin"}}) {
    REQUIRE(conn->send("PUT " + std::string(path) + " HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                       std::to_string(kAnnounced) + "\r\n\r\n"));
    REQUIRE(conn->send(part));
  }
  // Killed once A has written most of what came (its temporary files on the mount have it),
  // so that the files a crash leaves are really there.
  const std::string dir = c->m1() + "/root/killed/";
  wait_until(
      [&] {
        int big = 0;
        for (const OpenFile& f : open_files(c->a().pid()))
          if (f.path.starts_with(dir) && f.size >= static_cast<long long>(kSent / 2)) ++big;
        return big >= 2;
      },
      "A has both uploads' bytes in files on the mount", 15s);
  c->a().kill9();

  // Seen through B and on its mount: the earlier file whole, no new one.
  CHECK(get(b, "/killed/replaced.bin").body == earlier);
  CHECK(get(b, "/killed/new.bin").status == 404);
  CHECK(read_file(c->m2() + "/root/killed/replaced.bin") == earlier);
  CHECK(!file_exists(c->m2() + "/root/killed/new.bin"));
  std::string left;
  for (const std::string& e : entries(c->m2() + "/root/killed"))
    if (e != "replaced.bin") left += " " + e;
  MESSAGE("what the crash left beside replaced.bin (hidden temporary files):" << left);
  for (const std::string& e : entries(c->m2() + "/root/killed"))
    CHECK_MESSAGE((e == "replaced.bin" || e.starts_with('.')), e << " is visible");
  CHECK(get(b, "/killed/?format=text").body.find("new.bin") == std::string::npos);

  // A again, on the same mount and port (HAProxy's configuration names it).
  c->a().start();
  CHECK(c->a().port() == a);
  CHECK(get(a, "/killed/replaced.bin").body == earlier);
  CHECK(get(a, "/killed/new.bin").status == 404);
  // The README: the next start on that host removes what the crash left.
  wait_until(
      [&] { return entries(c->m2() + "/root/killed") == std::vector<std::string>{"replaced.bin"}; },
      "A's start has removed the temporary files of its interrupted uploads", 10s);
  CHECK(put(a, "/killed/new.bin", "after the restart").status == 201);
  CHECK(until_served(b, "/killed/new.bin", "after the restart"));
  wait_until([&] { return c->proxy().servers_up() == 2; }, "HAProxy sees A up again", 10s);
}

// Last: the processes end as every server a test starts must, with exit status 0 on SIGTERM.
TEST_CASE("A and B exit 0 on SIGTERM") {
  Cluster* c = cluster_or_skip();
  if (c == nullptr) return;
  c->take_proxy().reset();
  const int a = c->a().stop(), b = c->b().stop();
  CHECK_MESSAGE(a == 0, "A exited with " << a << ":\n" << c->a().err());
  CHECK_MESSAGE(b == 0, "B exited with " << b << ":\n" << c->b().err());
  MESSAGE("GlusterFS came up in " << c->up_ms() << " ms");
}
