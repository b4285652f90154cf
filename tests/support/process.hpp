// Real processes for integration tests: spawn, capture output, signal, wait.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httpfs::test {

// A scratch directory removed (recursively) when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  // Writes a file (creating parent directories).
  void write(const std::string& rel, const std::string& content) const;
  void mkdir(const std::string& rel) const;

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
bool file_exists(const std::string& path);
// Every name in a directory, dotfiles included, sorted ("" entries never).
std::vector<std::string> entries(const std::string& dir);
// Every regular file under `dir` (relative path -> content), and with `with_dirs` every
// directory as "path/" -> "". Symbolic links are left out.
std::map<std::string, std::string> read_tree(const std::string& dir, bool with_dirs = true);

// A tmpfs of `size` (a mount option value, e.g. "1m") mounted on `dir` (made if missing)
// while the object lives. Needs root: without it, or where mounting fails, mounted() is false
// and why() says why, for the test to print as its reason to skip.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return why_.empty(); }
  const std::string& why() const { return why_; }

 private:
  std::string dir_, why_;
};

// While it lives, a thread swaps `path` between a symlink to `a` and one to `b`, each time
// atomically (a new link renamed over the old one), as fast as it can.
class SymlinkFlipper {
 public:
  SymlinkFlipper(std::string path, std::string a, std::string b);
  ~SymlinkFlipper();
  SymlinkFlipper(const SymlinkFlipper&) = delete;
  SymlinkFlipper& operator=(const SymlinkFlipper&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
// Deterministic pseudo-random bytes.
std::string random_bytes(std::size_t n, unsigned seed);

class Process {
 public:
  // Starts argv[0] (a path) with argv; stdout and stderr go to files read by out()/err().
  // `stdin_data` is written to the child's stdin when given (then closed). `env` entries
  // ("NAME=value") are added to the inherited environment, replacing same-named ones.
  Process(std::vector<std::string> argv, const std::vector<std::string>& env = {},
          std::optional<std::string> stdin_data = std::nullopt, const std::string& cwd = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Exit status (the code, or 128 + signal), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_, err_path_;
  TempDir dir_;
};

// Runs a command to completion (with a timeout); returns exit status, stdout, stderr.
struct RunResult {
  int status = -1;
  std::string out, err;
};
RunResult run(std::vector<std::string> argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              std::optional<std::string> stdin_data = std::nullopt,
              const std::vector<std::string>& env = {}, const std::string& cwd = {});

// Absolute path of a built binary, from $HTTPFS_BIN_DIR (set by meson) or ./build.
std::string binary(const std::string& name);

// Resident set size of a process, in KiB (from /proc).
long rss_kib(pid_t pid);
// Number of open file descriptors of a process.
int fd_count(pid_t pid);
// A regular file a process has open, as /proc shows it.
struct OpenFile {
  std::string path;  // ends in " (deleted)" when unlinked, or never linked (O_TMPFILE)
  long long size = 0;
};
// The regular files a process has open (not its sockets, pipes or directories).
std::vector<OpenFile> open_files(pid_t pid);
// CPU time (user + system) a process has used, in milliseconds.
long cpu_ms(pid_t pid);

}  // namespace httpfs::test
