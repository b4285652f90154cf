// A TCP proxy on loopback that breaks connections on purpose: the first `faults`
// connections to carry `after` bytes from the client (Direction::Upload) or from the server
// (Direction::Download) are cut there (both sides closed), or held (nothing more is
// forwarded either way, the sockets stay open) until release_held(). Later connections pass
// through untouched. For resumable uploads and segmented downloads: a client must find where
// it was and go on.
//
// Lifetime: one thread accepts and one thread per connection forwards; the destructor stops
// and joins them all.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace httpfs::test {

class CuttingProxy {
 public:
  enum class Fault { Cut, Hold };
  enum class Direction { Upload, Download };
  CuttingProxy(int target_port, std::uint64_t after, int faults, Fault fault = Fault::Cut,
               Direction direction = Direction::Upload);
  ~CuttingProxy();
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;

  int port() const { return port_; }
  int faults_done() const { return done_.load(); }
  // Held connections: closed now (the server then sees its client gone).
  void release_held();

 private:
  void accept_loop();
  void forward(int client, int server);

  int target_port_;
  std::uint64_t after_;
  Fault fault_;
  Direction direction_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> left_;
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> release_epoch_{0};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace httpfs::test
