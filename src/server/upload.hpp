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
// Resumable uploads (draft-ietf-httpbis-resumable-upload; server/resumable.hpp) are the same
// object in another mode. A PUT or POST with Upload-Complete from a client that speaks
// interop 6 or 8 makes an upload resource after the same checks (and the limits on open
// uploads): its record and data file are in the state directory (io/upload_store.hpp), a
// 104 names its URL before the body is read, and the body is appended to the data file.
// append() does the same for a PATCH to that URL. Then:
//   finish()   the last byte (Upload-Complete: ?1): the data file is committed to the target
//              as above, with the preconditions recorded at creation; not the last: the
//              bytes are synced and the new offset recorded, on the worker pool, and only
//              then reported
//   fail(), abandon(), interrupt()   what arrived is kept: synced and recorded at once
//              (on the loop: this is rare, and its tail is short thanks to early writeback)
// interrupt() is the registry's (server/upload_registry.hpp): a newer request for the same
// upload ended this one.
//
// Lifetime: made by UploadHandler (or the upload resource's PATCH) for one request and owned
// by the protocol driver until the body ends; its file then moves into the job, which the
// worker pool owns until it has answered (or been dropped because the connection closed).
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
#include "server/resumable.hpp"

namespace httpfs::server {

struct ResumableUpload;  // upload.cpp

// A refusal before the body: status, reason, and at most one more header.
struct PreBodyRefusal {
  int status = 0;
  std::string detail;
  std::string extra_name, extra_value;
  std::string_view problem;  // a resumable-upload problem type (RFC 9457 body), or ""
  std::optional<std::uint64_t> expected_offset, provided_offset;  // for a mismatch
};

class Upload final : public BodySink, public UploadRegistry::Holder {
 public:
  // Checks the request and opens the temporary file (or, for a resumable creation, the
  // upload's data file). Returns the upload, or nullptr after answering the refusal in
  // `reply`.
  static std::unique_ptr<Upload> begin(const DavContext& dav, const UploadContext& uploads,
                                       const Request& request, Reply& reply);
  // A PATCH to upload `id`'s URL: the checks of the drafts, then the upload's data file,
  // locked for this request. Returns nullptr after answering a refusal.
  static std::unique_ptr<Upload> append(const DavContext& dav, const UploadContext& uploads,
                                        std::string_view id, const Request& request, Reply& reply);
  ~Upload() override;

  std::optional<BodyFault> write(std::string_view bytes) override;
  bool takes_splice() const override { return !sha_ && sink_; }
  long splice_from(int pipe_fd, std::size_t n) override;
  std::uint64_t splice_room() const override;
  std::optional<BodyFault> spliced(std::uint64_t moved, int write_error) override;
  Finish finish(Reply& reply) override;
  void fail(const BodyFault& fault, Reply& reply) override;
  void abandon(std::string_view why) override;
  void interrupt() override;

  const std::string& path() const noexcept { return path_; }
  std::uint64_t received() const noexcept { return received_; }

 private:
  Upload();
  std::optional<BodyFault> check_size() const;
  std::uint64_t start() const noexcept;  // the upload's offset when this request began
  std::optional<PreBodyRefusal> take_digest(const Request& req);
  std::optional<PreBodyRefusal> open_resource(const UploadContext& uploads, const ServerOptions& o,
                                              const Request& req, const http::UploadFields& fields,
                                              const Creation& plan, int dir, std::string name);
  std::optional<PreBodyRefusal> open_data(int dir, std::string name);
  void send_resumption_supported(Reply& reply) const;
  Finish finish_resumable();
  void release_claim() noexcept;
  void keep_received(std::string_view why);

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
  bool discard_ = false;     // this request's bytes are not to be kept (a digest mismatch)
  std::unique_ptr<ResumableUpload> res_;  // only for resumable uploads
};

// The Handler for PUT and POST.
class UploadHandler final : public DavHandler {
 public:
  UploadHandler(const DavContext& dav, const UploadContext& uploads)
      : DavHandler(dav), uploads_(uploads) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  const UploadContext& uploads_;
};

}  // namespace httpfs::server
