// PUT and POST to a path: create or replace a file, atomically. One Upload owns the whole
// of it:
//
//   begin()    every check that can be made before the body is read: read-only (403), the
//              path (405 for a directory path, 403 hidden, 409 a directory or a file in the
//              way), preconditions (412), size (413), free space (507), a malformed
//              Content-Digest (400), locks (423; RFC 4918 7.5); then the temporary file in
//              the target's directory. A chunked body's size is judged by
//              X-Expected-Entity-Length when it comes.
//   write()    body bytes into the temporary file (hashed when a Content-Digest came),
//   splice..   or straight from the socket through a pipe (the driver moves them)
//   finish()   the digest is checked, then a CommitJob makes the file durable and gives it
//              its name on the worker pool, and answers 201 or 204 (or 412 when another
//              writer won, 5xx when the disk failed)
//   fail()     the body broke or the disk refused: the temporary file goes, the answer says
//              why; abandon(): the same without an answer
//
// What an upload has to remember (target, temporary file, bytes so far, digest state) lives
// in this one object, so that it can later be written to the state directory and resumed.
//
// Lifetime: made by UploadHandler for one request and owned by the protocol driver until the
// body ends; its file then moves into the CommitJob, which the worker pool owns until it has
// answered (or been dropped because the connection closed).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "io/docroot.hpp"
#include "io/file_sink.hpp"
#include "io/sha256.hpp"
#include "server/dav.hpp"
#include "server/docroot_handler.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class Upload final : public BodySink {
 public:
  // Checks the request and opens the temporary file. Returns the upload, or nullptr after
  // answering the refusal in `reply`.
  static std::unique_ptr<Upload> begin(const DavContext& dav, const Request& request, Reply& reply);
  ~Upload() override;

  std::optional<BodyFault> write(std::string_view bytes) override;
  bool takes_splice() const override { return !sha_; }
  long splice_from(int pipe_fd, std::size_t n) override;
  std::uint64_t splice_room() const override {
    return received_ > max_body_ ? 1 : max_body_ - received_ + 1;
  }
  std::optional<BodyFault> spliced(std::uint64_t moved, int write_error) override;
  Finish finish(Reply& reply) override;
  void fail(const BodyFault& fault, Reply& reply) override;
  void abandon(std::string_view why) override;

  const std::string& path() const noexcept { return path_; }
  std::uint64_t received() const noexcept { return received_; }

 private:
  Upload() = default;
  std::optional<BodyFault> check_size() const;

  std::unique_ptr<io::FileSink> sink_;  // the temporary file; null once committed or dropped
  std::unique_ptr<io::Sha256> sha_;     // only when a Content-Digest was sent
  std::string expected_sha256_;
  std::string path_;                       // normalised target path (logs, Location)
  std::string if_match_;                   // If-Match value, checked again right before the rename
  std::string peer_;                       // for log lines
  std::optional<std::uint64_t> declared_;  // Content-Length; nullopt when chunked
  std::uint64_t received_ = 0;             // body bytes so far
  std::uint64_t max_body_ = 0;
  bool durable_ = true;
  bool existed_ = false;     // the answer will be 204 (replaced), not 201
  bool no_replace_ = false;  // If-None-Match: *: commit only if still absent
};

// The Handler for PUT and POST.
class UploadHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

}  // namespace httpfs::server
