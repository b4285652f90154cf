#include "process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace httpfs::test {

namespace {

void remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    ::chmod(path.c_str(), 0700);  // tests make read-only directories
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        remove_tree(path + "/" + name);
      }
      ::closedir(d);
    }
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

void mkdirs(const std::string& path) {
  for (std::size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    ::mkdir(path.substr(0, pos).c_str(), 0755);
  }
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/httpfs-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  remove_tree(path_);
}

void TempDir::write(const std::string& rel, const std::string& content) const {
  std::string full = path_ + "/" + rel;
  mkdirs(full.substr(0, full.rfind('/')));
  write_file(full, content);
}

void TempDir::mkdir(const std::string& rel) const {
  mkdirs(path_ + "/" + rel);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::map<std::string, std::string> read_tree(const std::string& dir, bool with_dirs) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_symlink()) continue;
    const std::string rel = e.path().lexically_relative(dir).string();
    if (!e.is_directory())
      out[rel] = read_file(e.path());
    else if (with_dirs)
      out[rel + "/"] = "";
  }
  return out;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TmpfsMount::TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
  if (::geteuid() != 0) {
    why_ = "mounting a tmpfs needs root";
    return;
  }
  ::mkdir(dir.c_str(), 0755);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0)
    why_ = std::string("cannot mount a tmpfs here: ") + std::strerror(errno);
}

TmpfsMount::~TmpfsMount() {
  if (mounted()) ::umount2(dir_.c_str(), MNT_DETACH);
}

SymlinkFlipper::SymlinkFlipper(std::string path, std::string a, std::string b)
    : thread_([this, path = std::move(path), a = std::move(a), b = std::move(b)] {
        const std::string next = path + ".new";
        while (!stop_) {
          ::symlink(a.c_str(), next.c_str());
          ::rename(next.c_str(), path.c_str());
          ::symlink(b.c_str(), next.c_str());
          ::rename(next.c_str(), path.c_str());
        }
      }) {}

SymlinkFlipper::~SymlinkFlipper() {
  stop_ = true;
  thread_.join();
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<std::size_t>(8, n - i));
  }
  return s;
}

Process::Process(std::vector<std::string> argv, const std::vector<std::string>& env,
                 std::optional<std::string> stdin_data, const std::string& cwd) {
  out_path_ = dir_ / "stdout";
  err_path_ = dir_ / "stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  int pipefd[2] = {-1, -1};
  if (stdin_data) {
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_adddup2(&fa, pipefd[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  // The given variables replace inherited ones of the same name (getenv would find the
  // inherited one first).
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    const std::string_view inherited(*e);
    const std::string_view key = inherited.substr(0, inherited.find('=') + 1);
    if (std::none_of(env.begin(), env.end(),
                     [&](const std::string& x) { return x.starts_with(key); }))
      envs.emplace_back(inherited);
  }
  for (const std::string& e : env) envs.push_back(e);
  auto args = c_strings(argv);
  auto envp = c_strings(envs);
  int r = ::posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (r != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(r));
  if (stdin_data) {
    ::close(pipefd[0]);
    const std::string data = *stdin_data;
    int wfd = pipefd[1];
    std::thread([wfd, data] {
      std::size_t done = 0;
      while (done < data.size()) {
        ssize_t n = ::write(wfd, data.data() + done, data.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      ::close(wfd);
    }).detach();
  }
}

Process::~Process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
}

void Process::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool Process::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

std::string Process::out() const {
  return read_file(out_path_);
}
std::string Process::err() const {
  return read_file(err_path_);
}

RunResult run(std::vector<std::string> argv, std::chrono::milliseconds timeout,
              std::optional<std::string> stdin_data, const std::vector<std::string>& env,
              const std::string& cwd) {
  Process p(std::move(argv), env, std::move(stdin_data), cwd);
  RunResult r;
  auto st = p.wait(timeout);
  if (!st) {
    p.signal(SIGKILL);
    st = p.wait(std::chrono::seconds(5));
    r.status = -1;
  } else {
    r.status = *st;
  }
  r.out = p.out();
  r.err = p.err();
  return r;
}

std::string binary(const std::string& name) {
  const char* dir = std::getenv("HTTPFS_BIN_DIR");
  std::string d = dir && *dir ? dir : "build";
  char* real = ::realpath((d + "/" + name).c_str(), nullptr);
  if (real == nullptr) throw std::runtime_error("binary not found: " + d + "/" + name);
  std::string out = real;
  std::free(real);
  return out;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

int fd_count(pid_t pid) {
  int n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

std::vector<OpenFile> open_files(pid_t pid) {
  std::vector<OpenFile> out;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = ::opendir(fd_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string link = fd_dir + "/" + e->d_name;
      // Either call fails when the descriptor was closed meanwhile: then it is not open.
      struct stat st {};
      if (::stat(link.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      char target[4096];
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
      if (n <= 0) continue;
      out.push_back({std::string(target, static_cast<std::size_t>(n)), st.st_size});
    }
    ::closedir(d);
  }
  return out;
}

long cpu_ms(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t close = content.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return (utime + stime) * 1000 / ::sysconf(_SC_CLK_TCK);
}

}  // namespace httpfs::test
