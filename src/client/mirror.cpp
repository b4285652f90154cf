#include "client/mirror.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "client/local_files.hpp"
#include "client/policy.hpp"
#include "client/session.hpp"
#include "http/chars.hpp"

namespace httpfs::client {

int Mirror::start() {
  std::string err;
  const auto url = parse_directory_url(o_.url, err);
  if (!url) {
    std::fprintf(stderr, "httpc: --mirror: %s: %s\n", o_.url.c_str(), err.c_str());
    return kUsage;
  }
  root_ = *url;
  if (const int e = make_dirs(o_.mirror_dir); e != 0) {
    std::fprintf(stderr, "httpc: --mirror: cannot make %s: %s\n", o_.mirror_dir.c_str(),
                 std::strerror(e));
    return kLocalFile;
  }
  pending_.push_back({root_, "", 0});
  next_listing();
  return 0;
}

void Mirror::next_listing() {
  if (pending_.empty()) {
    done_ = true;
    return sink_.walk_done();
  }
  current_ = std::move(pending_.front());
  pending_.pop_front();
  RequestSpec spec;
  const std::string err = Session::walk_spec(o_, shared_, current_.url, spec);
  if (!has_header(o_.headers, "accept"))
    spec.headers.emplace_back("Accept", "application/json, text/html;q=0.9");
  if (!err.empty()) {
    sink_.walk_failed(current_.url.to_string(), kUsage, err);
    return next_listing();
  }
  status_ = 0;
  json_ = false;
  body_.clear();
  reading_ = true;
  Transfer::start(loop_, std::move(spec), *this);
}

int Mirror::on_head(const http::ResponseHead& h) {
  status_ = h.status;
  if (h.status != 200) return 0;  // its body is not read as a listing
  const http::Header* ct = h.find("content-type");
  json_ = ct != nullptr && http::chars::iequals(ct->value.substr(0, 16), "application/json");
  if (h.framing == http::ResponseFraming::Length && h.content_length > kMaxListing)
    return kTooLarge;
  return 0;
}

int Mirror::on_body(std::string_view data) {
  if (status_ != 200) return 0;
  if (body_.size() + data.size() > kMaxListing) return kTooLarge;
  body_.append(data);
  return 0;
}

void Mirror::on_finished(TransferResult r) {
  reading_ = false;
  const std::string url = current_.url.to_string();
  if (r.exit_code != 0) {
    sink_.walk_failed(url, r.exit_code,
                      r.exit_code == kTooLarge ? "the listing is larger than 64 MiB"
                      : r.error.empty()        ? "the listing could not be read"
                                               : r.error);
  } else if (status_ != 200) {
    sink_.walk_failed(url, status_ >= 500 ? kHttp5xx : kHttp4xx,
                      "GET " + url + ": " + std::to_string(r.status) + " " + r.reason);
  } else if (json_) {
    if (const std::optional<Listing> l = parse_json_listing(body_, current_.url))
      take(*l, current_);
    else
      sink_.walk_failed(url, kProtocol, "the JSON answer is not a directory listing");
  } else {
    take(parse_html_listing(body_, current_.url), current_);
  }
  body_.clear();
  body_.shrink_to_fit();
  next_listing();
}

bool Mirror::unchanged(const ListingEntry& e, const std::string& path) const {
  if (!e.size || !e.mtime) return false;
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         static_cast<std::uint64_t>(st.st_size) == *e.size && st.st_mtime == *e.mtime;
}

void Mirror::take(const Listing& listing, const Dir& dir) {
  for (const std::string& name : listing.refused)
    std::fprintf(stderr, "httpc: --mirror: left out '%s' of %s: not a child with a safe name\n",
                 name.c_str(), dir.url.to_string().c_str());
  for (const ListingEntry& e : listing.entries) {
    const std::string rel = dir.local + e.name;
    const std::string path = o_.mirror_dir + "/" + rel;
    if (e.directory) {
      if (dir.depth + 1 > kMaxDepth) {
        std::fprintf(stderr, "httpc: --mirror: left out %s: deeper than %d directories\n",
                     e.url.to_string().c_str(), kMaxDepth);
        continue;
      }
      if (o_.mirror_delete) named_.insert(rel + "/");
      // Made now, so that an empty directory is mirrored too.
      if (const int err = make_dirs(path); err != 0) {
        sink_.walk_failed(e.url.to_string(), kLocalFile,
                          "cannot make " + path + ": " + std::strerror(err));
        continue;
      }
      pending_.push_back({e.url, rel + "/", dir.depth + 1});
      continue;
    }
    if (o_.mirror_delete) named_.insert(rel);
    if (unchanged(e, path)) {
      ++skipped_;
      continue;
    }
    ClientOptions::Target t{e.url.to_string(), path, false};
    // Without the listing's size and mtime, the server decides: If-Modified-Since of the
    // local copy (its mtime is the Last-Modified it came with).
    struct stat st {};
    if (!e.mtime && ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) t.time_cond = path;
    sink_.add_job(std::move(t));
  }
}

bool Mirror::kept_for_resume(const std::string& rel) const {
  // What a failed download keeps for -C - stays while its file is still listed.
  for (const std::string_view suffix : {".part.segments", ".part"})
    if (rel.ends_with(suffix) && named_.contains(rel.substr(0, rel.size() - suffix.size())))
      return true;
  return false;
}

std::size_t Mirror::delete_vanished(int& failures) {
  namespace fs = std::filesystem;
  std::vector<fs::path> gone;
  std::error_code ec;
  const fs::path root(o_.mirror_dir);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(root).string();
    const bool dir = it->is_directory(ec) && !it->is_symlink(ec);
    if (named_.contains(dir ? rel + "/" : rel) || kept_for_resume(rel)) continue;
    gone.push_back(it->path());
    if (dir) it.disable_recursion_pending();  // removed whole
  }
  std::size_t removed = 0;
  for (const fs::path& p : gone) {
    const std::uintmax_t n = fs::remove_all(p, ec);
    if (ec) {
      std::fprintf(stderr, "httpc: --delete: cannot remove %s: %s\n", p.c_str(),
                   ec.message().c_str());
      ++failures;
      continue;
    }
    removed += n;
    if (o_.verbose) std::fprintf(stderr, "* Removed %s\n", p.c_str());
  }
  return removed;
}

}  // namespace httpfs::client
