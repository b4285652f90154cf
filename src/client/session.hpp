// One httpc run: the request the options describe, carried out as one or more Transfers
// (redirects with -L, retries with --retry, a resume with -C -), with the body written where
// it belongs (a .part file renamed when complete, or stdout), digests checked, and one exit
// code. What each answer means is decided by client/policy.hpp.
//
// Lifetime: lives on client::run()'s stack for the whole loop run; at most one Transfer at
// a time, which calls back here until its on_finished().
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "client/file_output.hpp"
#include "client/options.hpp"
#include "client/progress.hpp"
#include "client/transfer.hpp"
#include "io/sha256.hpp"
#include "net/tls.hpp"

namespace httpfs::client {

class Session final : public Transfer::Handler {
 public:
  Session(uv_loop_t* loop, const ClientOptions& o) : loop_(loop), o_(o) {}

  // Sets up and starts the first transfer: -1 while running, else the exit code.
  int start();
  int exit_code() const noexcept { return exit_; }

  // Transfer::Handler
  int on_head(const http::ResponseHead& head) override;
  int on_body(std::string_view data) override;
  int splice_fd() override;
  void on_spliced(std::uint64_t n) override;
  void on_finished(TransferResult r) override;

 private:
  static void on_retry_timer(uv_timer_t* t);
  static void on_max_timer(uv_timer_t* t);
  int prepare_body();
  int prepare_output();
  void begin_transfer();
  int open_file(const http::ResponseHead& h);
  void note_digests(const http::ResponseHead& h);
  void failed(const TransferResult& r);
  void follow(const TransferResult& r);
  void complete(const TransferResult& r);
  void retry_or_fail(int code, const std::string& why, std::uint64_t wait_ms);
  void finish(int code, const std::string& message);
  void close_handles();
  int write_stdout(std::string_view data);
  void print_head(const TransferResult& r);
  // The TLS settings for https URLs, made once. An empty string, or the reason it failed.
  std::string ensure_tls();

  uv_loop_t* loop_;
  std::unique_ptr<net::TlsContext> tls_;
  const ClientOptions& o_;
  RequestSpec spec_;
  int upload_fd_ = -1;
  bool body_replayable_ = true;
  std::unique_ptr<FileOutput> file_;
  bool to_stdout_ = false;
  bool explicit_stdout_ = false;
  Transfer* current_ = nullptr;
  Progress progress_;
  uv_timer_t retry_timer_{};
  uv_timer_t max_timer_{};
  bool timers_open_ = false;
  int retries_left_ = 0;
  int redirects_ = 0;
  int attempt_ = 0;
  int exit_ = 0;
  bool done_ = false;

  // Per attempt.
  bool writing_ = false;  // this answer's body goes to the output
  bool first_chunk_ = true;
  std::uint64_t resume_from_ = 0;  // bytes of the .part file this attempt asked to continue
  std::unique_ptr<io::Sha256> content_sha_, repr_sha_;
  std::string content_digest_, repr_digest_;
  std::optional<std::int64_t> last_modified_;
};

}  // namespace httpfs::client
