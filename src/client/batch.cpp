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
  targets_ = o_.targets;
  if (targets_.empty()) targets_.push_back({o_.url, o_.output, o_.remote_name});
  shared_.pool = &pool_;
  shared_.progress = !o_.parallel || targets_.size() == 1;
  shared_.on_done = [this](Session& s) { on_session_done(s); };
}

Batch::~Batch() {
  if (dump_fd_ > 1) ::close(dump_fd_);
}

int Batch::run() {
  int code = open_dump();
  if (code == 0) code = load_cookie_files();
  if (code == 0) {
    start_more();
    if (running_ == 0) pool_.close();  // every URL failed to start
    uv_run(loop_, UV_RUN_DEFAULT);
    free_closed();
    if (jar_ && !o_.cookie_jar.empty())
      if (const int err = save_cookie_jar(); err != 0) record(targets_.size(), err, {});
    std::sort(failures_.begin(), failures_.end(),
              [](const Failure& a, const Failure& b) { return a.index < b.index; });
    code = failures_.empty() ? 0 : failures_.front().code;
  } else {
    pool_.close();
  }
  if (targets_.size() > 1 && !failures_.empty()) {
    for (const Failure& f : failures_) {
      if (f.index >= targets_.size()) continue;  // the cookie jar: reported already
      // The line names the URL, unless the failure's own line does already.
      const std::string& url = targets_[f.index].url;
      const bool named = f.error.find(url) != std::string::npos;
      std::fprintf(stderr, "httpc: failed (exit %d): %s%s%s\n", f.code, named ? "" : url.c_str(),
                   named || f.error.empty() ? "" : ": ", f.error.c_str());
    }
    std::fprintf(stderr, "httpc: %zu of %zu transfers failed\n", failures_.size(), targets_.size());
  }
  return code;
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
  while (running_ < limit && next_ < targets_.size()) {
    const std::size_t index = next_++;
    Job& job = jobs_.emplace_back(Job{index, o_, nullptr});
    const ClientOptions::Target& t = targets_[index];
    job.options.url = t.url;
    job.options.output = t.output;
    job.options.remote_name = t.remote_name;
    job.options.targets.clear();
    job.session = std::make_unique<Session>(loop_, job.options, shared_);
    ++running_;
    const int code = job.session->start();
    if (code >= 0) {  // refused before anything went out; start() said why
      --running_;
      if (code != 0) record(index, code, {});
    }
  }
}

void Batch::on_session_done(Session& s) {
  --running_;
  for (const Job& job : jobs_)
    if (job.session.get() == &s && s.exit_code() != 0) record(job.index, s.exit_code(), s.error());
  free_closed();
  start_more();
  if (running_ == 0 && next_ >= targets_.size()) pool_.close();  // the loop may end now
}

void Batch::free_closed() {
  jobs_.remove_if([](const Job& job) { return job.session->closed(); });
}

void Batch::record(std::size_t index, int code, const std::string& error) {
  failures_.push_back({index, code, error});
}

}  // namespace httpfs::client
