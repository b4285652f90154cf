#include "client/segmented_download.hpp"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "client/local_files.hpp"
#include "client/options.hpp"
#include "client/policy.hpp"
#include "http/chars.hpp"
#include "net/errors.hpp"

namespace httpfs::client {

SegmentedDownload::SegmentedDownload(uv_loop_t* loop, RequestSpec base, int fd, SegmentMap map,
                                     std::string map_path, Owner& owner)
    : loop_(loop),
      base_(std::move(base)),
      fd_(fd),
      map_(std::move(map)),
      map_path_(std::move(map_path)),
      owner_(owner) {
  // A range request of its own: whatever ranges or conditions the plain GET carried go.
  std::erase_if(base_.headers, [](const auto& h) {
    return http::chars::iequals(h.first, "range") || http::chars::iequals(h.first, "if-range");
  });
}

SegmentedDownload::~SegmentedDownload() {
  assert(state_ == State::Done || open_handles_ == 0);
}

int SegmentedDownload::start() {
  if (save_record() != 0) return kLocalFile;
  uv_timer_init(loop_, &save_timer_);
  save_timer_.data = this;
  ++open_handles_;
  // At once (a record with every segment done needs no transfer), then every interval.
  uv_timer_start(&save_timer_, &SegmentedDownload::on_save_timer, 0, kSaveIntervalMs);
  for (std::size_t i = 0; i < map_.segments.size(); ++i) {
    if (map_.segments[i].done()) continue;
    Worker& w = *workers_.emplace_back(std::make_unique<Worker>(*this, i));
    uv_timer_init(loop_, &w.retry_timer);
    w.retry_timer.data = &w;
    ++open_handles_;
    start_worker(w);
  }
  return 0;
}

void SegmentedDownload::start_worker(Worker& w) {
  const Segment& s = map_.segments[w.index];
  RequestSpec spec = base_;
  spec.headers.emplace_back("Range",
                            "bytes=" + std::to_string(s.next) + "-" + std::to_string(s.last));
  spec.headers.emplace_back("If-Range", map_.validator);
  w.at_start = s.next;
  w.restart = false;
  w.transfer = Transfer::start(loop_, std::move(spec), w);
}

// ---- a segment's transfer

int SegmentedDownload::Worker::on_head(const http::ResponseHead& h) {
  const Segment& s = dl.map_.segments[index];
  if (h.status == 206) {
    const http::Header* cr = h.find("content-range");
    if (range_answers(cr ? cr->value : "", s.next, s.last, dl.map_.length)) {
      dl.owner_.on_segment_head(h);
      return 0;
    }
  }
  // 200: the validator no longer matches (or ranges are not served after all); 416: the
  // file is shorter now; a 206 of other bytes: none of them can go into this file.
  if (h.status == 200 || h.status == 206 || h.status == 416) {
    restart = true;
    return kProtocol;
  }
  return h.status >= 500 ? kHttp5xx : kHttp4xx;
}

int SegmentedDownload::Worker::on_body(std::string_view data) {
  Segment& s = dl.map_.segments[index];
  if (data.size() > s.remaining()) return kProtocol;  // the 206 said otherwise: not trusted
  while (!data.empty()) {
    const ssize_t n = ::pwrite(dl.fd_, data.data(), data.size(), static_cast<off_t>(s.next));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "httpc: cannot write the download: %s\n",
                   net::errno_text(n < 0 ? errno : EIO).c_str());
      return kLocalFile;
    }
    // The record may say so from now on: the bytes are in the file (its pages).
    s.next += static_cast<std::uint64_t>(n);
    data.remove_prefix(static_cast<std::size_t>(n));
    dl.dirty_ = true;
    dl.owner_.on_segment_bytes(static_cast<std::uint64_t>(n));
  }
  return 0;
}

void SegmentedDownload::Worker::on_finished(TransferResult r) {
  transfer = nullptr;
  dl.worker_finished(*this, r);
}

void SegmentedDownload::worker_finished(Worker& w, const TransferResult& r) {
  if (state_ != State::Running) return maybe_done();
  const Segment& s = map_.segments[w.index];
  const std::string which = "segment " + std::to_string(w.index + 1) + " (bytes " +
                            std::to_string(s.first) + "-" + std::to_string(s.last) + ")";
  if (w.restart)
    return stop(0, true,
                which + ": the server did not answer with that range of the same version (" +
                    std::to_string(r.status) + " " + r.reason + ")");
  if (r.exit_code == 0 && s.done()) {
    if (map_.done()) stop(0, false, {});
    return;
  }
  int code = r.exit_code;
  std::string why = r.error;
  if (code == 0 || code == kHttp4xx || code == kHttp5xx) {
    if (code == 0) code = kPartial;
    why = r.status >= 300 ? "the server answered " + std::to_string(r.status) + " " + r.reason
                          : "the range ended early";
  }
  if (s.next > w.at_start) w.failures = 0;  // it made progress: a fresh set of tries
  ++w.failures;
  const bool transient = code == kHttp5xx || retryable_failure(code, true, r.request_sent);
  if (transient && w.failures < kTries) {
    if (base_.verbose)
      std::fprintf(stderr, "* %s: %s; again from byte %llu\n", which.c_str(), why.c_str(),
                   static_cast<unsigned long long>(s.next));
    uv_timer_start(&w.retry_timer, &SegmentedDownload::on_retry_timer, backoff_ms(w.failures), 0);
    return;
  }
  stop(code, false, which + ": " + (why.empty() ? "the transfer failed" : why));
}

void SegmentedDownload::on_retry_timer(uv_timer_t* t) {
  auto* w = static_cast<Worker*>(t->data);
  if (w->dl.state_ == State::Running) w->dl.start_worker(*w);
}

// ---- the record and the end

void SegmentedDownload::on_save_timer(uv_timer_t* t) {
  auto* self = static_cast<SegmentedDownload*>(t->data);
  if (self->state_ != State::Running) return;
  if (self->dirty_ && self->save_record() != 0)
    return self->stop(kLocalFile, false, "cannot write " + self->map_path_);
  if (self->map_.done()) self->stop(0, false, {});
}

int SegmentedDownload::save_record() {
  dirty_ = false;
  if (const int err = replace_file(map_path_, segment_map_text(map_), 0644); err != 0) {
    std::fprintf(stderr, "httpc: cannot write %s: %s\n", map_path_.c_str(), std::strerror(err));
    return err;
  }
  return 0;
}

void SegmentedDownload::forget_record() {
  ::unlink(map_path_.c_str());
}

void SegmentedDownload::cancel(int code, std::string why) {
  stop(code, false, std::move(why));
}

void SegmentedDownload::stop(int code, bool restart, std::string why) {
  if (state_ != State::Running) return;
  code_ = code;
  restart_ = restart;
  why_ = std::move(why);
  enter(State::Stopping);
  for (auto& w : workers_) {
    uv_timer_stop(&w->retry_timer);
    if (w->transfer != nullptr) w->transfer->cancel(code != 0 ? code : kPartial, "stopped");
  }
  // What arrived stays accounted for, for -C - (a restart throws it all away instead).
  if (!restart && code != 0) save_record();
  maybe_done();
}

void SegmentedDownload::maybe_done() {
  if (state_ != State::Stopping) return;
  for (const auto& w : workers_)
    if (w->transfer != nullptr) return;
  enter(State::Done);
}

void SegmentedDownload::enter(State s) {
  state_ = s;
  if (s != State::Done) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&save_timer_), &SegmentedDownload::on_save_closed);
  for (auto& w : workers_)
    uv_close(reinterpret_cast<uv_handle_t*>(&w->retry_timer), &SegmentedDownload::on_retry_closed);
}

void SegmentedDownload::on_save_closed(uv_handle_t* h) {
  static_cast<SegmentedDownload*>(h->data)->handle_closed();
}

void SegmentedDownload::on_retry_closed(uv_handle_t* h) {
  static_cast<Worker*>(h->data)->dl.handle_closed();
}

void SegmentedDownload::handle_closed() {
  if (--open_handles_ > 0) return;
  owner_.on_segments_done(code_, restart_, why_);  // the last call: the owner may free this
}

}  // namespace httpfs::client
