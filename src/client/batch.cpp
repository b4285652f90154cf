#include "client/batch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "client/local_files.hpp"

namespace httpfs::client {

namespace {

constexpr std::size_t kMaxCookieFile = 64 << 20;  // -b FILE: larger is refused

}  // namespace

Batch::Batch(uv_loop_t* loop, const ClientOptions& options)
    : loop_(loop), o_(options), pool_(loop) {
  waiting_.assign(o_.targets.begin(), o_.targets.end());
  if (waiting_.empty() && !o_.mirror && !o_.upload_tree)
    waiting_.push_back({o_.url, o_.output, o_.remote_name});
  total_ = waiting_.size();
  shared_.pool = &pool_;
  shared_.progress = !o_.parallel || total_ == 1;
  shared_.on_done = [this](Session& s) { on_session_done(s); };
}

Batch::~Batch() {
  if (dump_fd_ > 1) ::close(dump_fd_);
}

int Batch::run() {
  int code = open_dump();
  if (code == 0) code = load_cookie_files();
  if (code == 0 && o_.mirror) {
    mirror_ = std::make_unique<Mirror>(loop_, o_, shared_, *this);
    code = mirror_->start();
  }
  if (code == 0 && o_.upload_tree) {
    upload_tree_ = std::make_unique<UploadTree>(loop_, o_, shared_, *this);
    code = upload_tree_->start();
  }
  if (code != 0) {
    pool_.close();
    return code;
  }
  start_more();
  maybe_end();  // every URL may have failed to start
  uv_run(loop_, UV_RUN_DEFAULT);
  free_closed();
  if (jar_ && !o_.cookie_jar.empty())
    if (const int err = save_cookie_jar(); err != 0) record(SIZE_MAX, {}, err, {});
  std::sort(failures_.begin(), failures_.end(),
            [](const Failure& a, const Failure& b) { return a.index < b.index; });
  print_summary();
  return failures_.empty() ? 0 : failures_.front().code;
}

void Batch::print_summary() const {
  const bool several = total_ > 1 || mirror_ || upload_tree_;
  if (several)
    for (const Failure& f : failures_) {
      if (f.url.empty()) continue;  // the cookie jar: reported already
      // The line names the URL, unless the failure's own line does already.
      const bool named = f.error.find(f.url) != std::string::npos;
      std::fprintf(stderr, "httpc: failed (exit %d): %s%s%s\n", f.code, named ? "" : f.url.c_str(),
                   named || f.error.empty() ? "" : ": ", f.error.c_str());
    }
  if (mirror_) {
    if (!o_.silent || !failures_.empty())
      std::fprintf(stderr, "httpc: --mirror: %zu fetched, %zu unchanged, %zu failed%s\n", fetched_,
                   mirror_->skipped() + not_modified_, failures_.size(),
                   o_.mirror_delete ? (", " + std::to_string(removed_) + " removed").c_str() : "");
  } else if (upload_tree_) {
    if (!o_.silent || !failures_.empty())
      std::fprintf(stderr, "httpc: --upload-tree: %zu sent, %zu failed\n", fetched_,
                   failures_.size());
  } else if (several && !failures_.empty()) {
    std::fprintf(stderr, "httpc: %zu of %zu transfers failed\n", failures_.size(), total_);
  }
}

int Batch::open_dump() {
  if (o_.dump_head.empty()) return 0;
  if (o_.dump_head == "-") {
    shared_.dump_fd = 1;
    return 0;
  }
  dump_fd_ = ::open(o_.dump_head.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (dump_fd_ < 0) {
    std::fprintf(stderr, "httpc: -D: cannot write %s: %s\n", o_.dump_head.c_str(),
                 std::strerror(errno));
    return kLocalFile;
  }
  shared_.dump_fd = dump_fd_;
  return 0;
}

int Batch::load_cookie_files() {
  if (o_.cookies.empty() && o_.cookie_jar.empty()) return 0;
  jar_ = std::make_unique<CookieJar>();
  shared_.jar = jar_.get();
  for (const std::string& b : o_.cookies) {
    if (b.find('=') != std::string::npos) continue;  // NAME=VALUE: each Session sends it
    std::string text;
    if (const int err = read_small_file(b, kMaxCookieFile, text); err != 0) {
      if (err == ENOENT) continue;  // curl's rule: a jar not made yet is an empty one
      std::fprintf(stderr, "httpc: -b: cannot read %s: %s\n", b.c_str(), std::strerror(err));
      return kLocalFile;
    }
    jar_->load(text, std::time(nullptr));
  }
  return 0;
}

int Batch::save_cookie_jar() {
  const std::string text = jar_->save(std::time(nullptr));
  if (o_.cookie_jar == "-") return Session::write_all(1, text) == 0 ? 0 : kLocalFile;
  if (const int err = replace_file(o_.cookie_jar, text, 0600); err != 0) {
    std::fprintf(stderr, "httpc: -c: cannot write %s: %s\n", o_.cookie_jar.c_str(),
                 std::strerror(err));
    return kLocalFile;
  }
  return 0;
}

void Batch::start_more() {
  const std::size_t limit = o_.parallel ? static_cast<std::size_t>(o_.parallel_max) : 1;
  while (running_ < limit && !waiting_.empty()) {
    const std::size_t index = next_++;
    Job& job = jobs_.emplace_back(Job{index, o_, nullptr});
    // Off the queue once started: a long walk's list holds only what still waits.
    const ClientOptions::Target t = std::move(waiting_.front());
    waiting_.pop_front();
    job.options.url = t.url;
    job.options.output = t.output;
    job.options.remote_name = t.remote_name;
    if (!t.time_cond.empty()) job.options.time_cond = t.time_cond;
    job.options.targets.clear();
    // The mirror made each directory when it read its listing.
    if (mirror_) job.options.mirror = false;
    if (!t.upload_file.empty()) {
      job.options.upload_tree = false;
      job.options.method = "PUT";
      job.options.body = ClientOptions::Body::File;
      job.options.upload_file = t.upload_file;
    }
    job.session = std::make_unique<Session>(loop_, job.options, shared_);
    ++running_;
    const int code = job.session->start();
    if (code >= 0) {  // refused before anything went out; start() said why
      --running_;
      if (code != 0) record(index, t.url, code, {});
    }
  }
}

void Batch::on_session_done(Session& s) {
  --running_;
  for (const Job& job : jobs_) {
    if (job.session.get() != &s) continue;
    if (s.exit_code() != 0)
      record(job.index, job.options.url, s.exit_code(), s.error());
    else if (s.last_status() == 304)
      ++not_modified_;
    else
      ++fetched_;
  }
  free_closed();
  start_more();
  maybe_end();
}

void Batch::add_job(ClientOptions::Target target) {
  waiting_.push_back(std::move(target));
  ++total_;
  start_more();
}

void Batch::walk_failed(const std::string& url, int code, const std::string& why) {
  std::fprintf(stderr, "httpc: %s: %s: %s\n", o_.mirror ? "--mirror" : "--upload-tree", url.c_str(),
               why.c_str());
  record(next_, url, code, why);
}

void Batch::walk_done() {
  maybe_end();
}

void Batch::maybe_end() {
  if (ended_ || running_ > 0 || !waiting_.empty() || (mirror_ && !mirror_->done()) ||
      (upload_tree_ && !upload_tree_->done()))
    return;
  ended_ = true;
  if (mirror_ && o_.mirror_delete) {
    int failures = 0;
    removed_ = mirror_->delete_vanished(failures);
    if (failures > 0) record(SIZE_MAX - 1, o_.mirror_dir, kLocalFile, "--delete failed");
  }
  pool_.close();  // the loop may end now
}

void Batch::free_closed() {
  jobs_.remove_if([](const Job& job) { return job.session->closed(); });
}

void Batch::record(std::size_t index, std::string url, int code, const std::string& error) {
  failures_.push_back({index, std::move(url), code, error});
}

}  // namespace httpfs::client
