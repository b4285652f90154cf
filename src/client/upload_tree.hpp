// httpc --upload-tree DIR URL/dir/: a local tree sent to a directory URL. The tree is read
// first (regular files and directories; symbolic links, devices and the like are left out,
// each with a line), then each directory is made with MKCOL, parents first, one at a time
// (201, or 405 for one that exists, go on; a server without WebDAV, 501, is sent no more
// MKCOLs and its PUTs make the parents where they can, as nginx's create_full_put_path
// does); then every file goes as a PUT of its own through the run's Batch: over kept-alive
// connections, -Z with --parallel-max at once, and resumable per file where the server
// offers it (client/session.hpp), so that -C - continues each unfinished one.
//
// Lifetime: owned by the Batch, on its loop, for the whole run; at most one MKCOL Transfer
// at a time, which calls back here until its on_finished().
#pragma once

#include <uv.h>

#include <string>
#include <utility>
#include <vector>

#include "client/job_sink.hpp"
#include "client/options.hpp"
#include "client/transfer.hpp"

namespace httpfs::client {

struct RunShared;

class UploadTree final : public Transfer::Handler {
 public:
  UploadTree(uv_loop_t* loop, const ClientOptions& o, RunShared& shared, JobSink& sink)
      : loop_(loop), o_(o), shared_(shared), sink_(sink) {}

  // Reads the tree and starts making its directories: 0, kUsage or kLocalFile.
  int start();
  bool done() const noexcept { return done_; }

  // Transfer::Handler (a MKCOL)
  int on_head(const http::ResponseHead& head) override;
  int on_body(std::string_view) override { return 0; }  // a MKCOL's page is not wanted
  void on_finished(TransferResult r) override;

 private:
  // The tree's directories (relative, "a/", "a/b/": parents first) and files.
  int read_tree();
  void next_mkcol();
  void send_files();
  http::Url url_of(const std::string& rel) const;

  uv_loop_t* loop_;
  const ClientOptions& o_;
  RunShared& shared_;
  JobSink& sink_;
  http::Url root_;
  std::vector<std::string> dirs_;
  std::vector<std::pair<std::string, std::string>> files_;  // relative path, local path
  std::size_t next_dir_ = 0;
  bool webdav_ = true;  // false once the server said it has no MKCOL (501)
  int status_ = 0;
  bool done_ = false;
};

}  // namespace httpfs::client
