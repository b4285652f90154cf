#include "client/upload_tree.hpp"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "client/policy.hpp"
#include "client/session.hpp"
#include "http/percent.hpp"

namespace httpfs::client {

int UploadTree::start() {
  std::string err;
  const auto url = parse_directory_url(o_.url, err);
  if (!url) {
    std::fprintf(stderr, "httpc: --upload-tree: %s: %s\n", o_.url.c_str(), err.c_str());
    return kUsage;
  }
  root_ = *url;
  if (const int code = read_tree(); code != 0) return code;
  next_mkcol();
  return 0;
}

int UploadTree::read_tree() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(o_.tree_dir);
  if (!fs::is_directory(fs::symlink_status(root, ec)) &&
      !(fs::is_symlink(fs::symlink_status(root, ec)) && fs::is_directory(root, ec))) {
    std::fprintf(stderr, "httpc: --upload-tree: %s is not a directory\n", o_.tree_dir.c_str());
    return kLocalFile;
  }
  dirs_.push_back("");  // the directory URL itself first: it may not exist yet
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::none, ec);
       !ec && it != fs::end(it); it.increment(ec)) {
    const std::string rel = it->path().lexically_relative(root).string();
    const fs::file_status st = it->symlink_status(ec);
    if (fs::is_directory(st))
      dirs_.push_back(rel + "/");
    else if (fs::is_regular_file(st))
      files_.emplace_back(rel, it->path().string());
    else
      std::fprintf(stderr, "httpc: --upload-tree: left out %s: not a regular file\n",
                   it->path().c_str());
  }
  if (ec) {
    std::fprintf(stderr, "httpc: --upload-tree: cannot read %s: %s\n", o_.tree_dir.c_str(),
                 ec.message().c_str());
    return kLocalFile;
  }
  return 0;
}

http::Url UploadTree::url_of(const std::string& rel) const {
  http::Url u = root_;
  u.target += http::percent_encode_path(rel, /*keep_slash=*/true);
  return u;
}

void UploadTree::next_mkcol() {
  if (!webdav_ || next_dir_ >= dirs_.size()) return send_files();
  const http::Url url = url_of(dirs_[next_dir_++]);
  RequestSpec spec;
  if (std::string err = Session::walk_spec(o_, shared_, url, spec); !err.empty()) {
    sink_.walk_failed(url.to_string(), kUsage, err);
    return send_files();  // every request would fail alike
  }
  spec.method = "MKCOL";
  status_ = 0;
  Transfer::start(loop_, std::move(spec), *this);
}

int UploadTree::on_head(const http::ResponseHead& h) {
  status_ = h.status;
  return 0;
}

void UploadTree::on_finished(TransferResult r) {
  const std::string url = url_of(dirs_[next_dir_ - 1]).to_string();
  if (r.exit_code != 0) {
    sink_.walk_failed(url, r.exit_code, r.error.empty() ? "MKCOL failed" : r.error);
  } else if (status_ == 501) {
    webdav_ = false;  // no WebDAV: the PUTs make what they can
    if (o_.verbose) std::fprintf(stderr, "* The server has no MKCOL: PUT alone\n");
  } else if (!(status_ >= 200 && status_ < 300) && status_ != 405) {
    sink_.walk_failed(url, status_ >= 500 ? kHttp5xx : kHttp4xx,
                      "MKCOL " + url + ": " + std::to_string(r.status) + " " + r.reason);
  }
  next_mkcol();
}

void UploadTree::send_files() {
  for (const auto& [rel, local] : files_) {
    ClientOptions::Target t{url_of(rel).to_string(), "/dev/null", false};
    t.upload_file = local;
    sink_.add_job(std::move(t));
  }
  files_.clear();
  done_ = true;
  sink_.walk_done();
}

}  // namespace httpfs::client
