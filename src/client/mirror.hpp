// httpc --mirror URL/dir/ DIR: the tree under a directory URL into a local directory. The
// listings are walked breadth-first, one at a time, asking for httpfs's JSON listing
// (Accept: application/json) and reading an HTML index page (nginx, Apache, lighttpd) where
// that is what comes; every file found is handed to the run's Batch, which fetches them
// (with -Z, at once) over the run's keep-alive connections. Only what changed is fetched: a
// JSON entry whose size and mtime equal the local file's is skipped; otherwise a file that
// exists locally is asked for with If-Modified-Since of its mtime (set from Last-Modified
// when it was fetched), and a 304 leaves it as it is.
//
// Confinement: only the listing's children are followed (client/listing.hpp: no parent, no
// other directory, no other origin), names must be safe as one local path component, and
// local paths are made from those names under DIR only. --delete removes, after every file
// is done, the local files and directories under DIR that no listing named.
//
// Lifetime: owned by the Batch, on its loop, for the whole run; at most one listing
// Transfer at a time, which calls back here until its on_finished().
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <set>
#include <string>

#include "client/job_sink.hpp"
#include "client/listing.hpp"
#include "client/options.hpp"
#include "client/transfer.hpp"

namespace httpfs::client {

struct RunShared;

class Mirror final : public Transfer::Handler {
 public:
  // A listing page larger than this is refused (a directory of ~300 000 entries in JSON).
  static constexpr std::size_t kMaxListing = 64 << 20;
  static constexpr int kMaxDepth = 64;

  Mirror(uv_loop_t* loop, const ClientOptions& o, RunShared& shared, JobSink& sink)
      : loop_(loop), o_(o), shared_(shared), sink_(sink) {}

  // Checks the URL and makes DIR, then starts the first listing: 0, kUsage or kLocalFile.
  int start();
  bool done() const noexcept { return done_; }
  // --delete: removes what no listing named under DIR (after every file is done). The count
  // removed; a failure is reported and counted in `failures`.
  std::size_t delete_vanished(int& failures);
  std::size_t skipped() const noexcept { return skipped_; }

  // Transfer::Handler (the listing being read)
  int on_head(const http::ResponseHead& head) override;
  int on_body(std::string_view data) override;
  void on_finished(TransferResult r) override;

 private:
  struct Dir {
    http::Url url;
    std::string local;  // relative to DIR: "" or "a/b/"
    int depth = 0;
  };
  void next_listing();
  void take(const Listing& listing, const Dir& dir);
  // The local file is the remote one already (JSON size and mtime): nothing to fetch.
  bool unchanged(const ListingEntry& e, const std::string& path) const;
  // A .part (or its segment record) of a file the listings still name.
  bool kept_for_resume(const std::string& rel) const;

  uv_loop_t* loop_;
  const ClientOptions& o_;
  RunShared& shared_;
  JobSink& sink_;
  http::Url root_;
  std::deque<Dir> pending_;
  Dir current_;
  bool reading_ = false;  // a listing Transfer is in flight
  bool done_ = false;
  int status_ = 0;
  bool json_ = false;
  std::string body_;
  std::set<std::string> named_;  // --delete: local paths the listings named, dirs with '/'
  std::size_t skipped_ = 0;
};

}  // namespace httpfs::client
