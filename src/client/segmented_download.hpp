// --segments N: one file fetched as N byte ranges over N connections at once, each written
// at its offset in the same .part file (pwrite), as aria2's -x does. Every range request is
// pinned with If-Range to the validator of the answer the plan was made from, so a file
// that changed on the server answers 200 instead of 206, and the download starts again as
// one stream rather than joining two versions. The plan and each segment's progress are
// kept in NAME.part.segments (client/segment_map.hpp), rewritten whole at most every
// kSaveIntervalMs and when the download stops, and only ever behind the bytes written:
// after a crash or kill, -C - continues every segment where its record says.
//
//   Running ──every segment done──▶ Done(0)
//      │ a segment's 200 / other range / 416 ──▶ Done(restart): the caller fetches one stream
//      │ a segment fails, out of tries ──▶ Done(code): the others are cancelled, the record
//      ▼                                    kept for -C -
//   cancel() ──▶ Done(code)
//
// A segment that fails (the connection cut, a timeout, a 5xx) is asked again from its next
// byte after a pause, up to kTries times in a row without progress.
//
// Lifetime: owned by the Session; the Session waits for Owner::on_segments_done(), the
// last call, before it frees this (in flight Transfers call back here until then).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/request.hpp"
#include "client/segment_map.hpp"
#include "client/transfer.hpp"

namespace httpfs::client {

class SegmentedDownload {
 public:
  class Owner {
   public:
    // Bytes written (for the progress line).
    virtual void on_segment_bytes(std::uint64_t n) = 0;
    // A segment's head (its Repr-Digest is the whole file's). Views valid during the call.
    virtual void on_segment_head(const http::ResponseHead& head) = 0;
    // `restart`: the server does not serve these ranges of this version; fetch it whole.
    // Otherwise `code` 0 (every byte is in the file) or the failure, `why` its line.
    virtual void on_segments_done(int code, bool restart, std::string why) = 0;

   protected:
    ~Owner() = default;
  };

  static constexpr int kTries = 5;
  static constexpr std::uint64_t kSaveIntervalMs = 500;

  // `base`: the GET (URL, fields, TLS, proxy); `fd`: the .part file, `length` bytes long.
  SegmentedDownload(uv_loop_t* loop, RequestSpec base, int fd, SegmentMap map, std::string map_path,
                    Owner& owner);
  ~SegmentedDownload();
  SegmentedDownload(const SegmentedDownload&) = delete;
  SegmentedDownload& operator=(const SegmentedDownload&) = delete;

  // Writes the record and starts a transfer per unfinished segment: 0, or kLocalFile when
  // the record cannot be written (nothing started then).
  int start();
  // Stops every transfer (--max-time); on_segments_done(code) follows.
  void cancel(int code, std::string why);
  const SegmentMap& map() const noexcept { return map_; }
  // Removes the record (the file is complete, or thrown away).
  void forget_record();

 private:
  enum class State : std::uint8_t { Running, Stopping, Done };
  struct Worker final : Transfer::Handler {
    Worker(SegmentedDownload& d, std::size_t i) : dl(d), index(i) {}
    int on_head(const http::ResponseHead& head) override;
    int on_body(std::string_view data) override;
    void on_finished(TransferResult result) override;
    SegmentedDownload& dl;
    std::size_t index;
    Transfer* transfer = nullptr;
    uv_timer_t retry_timer{};
    int failures = 0;            // in a row, without progress
    std::uint64_t at_start = 0;  // the segment's next byte when this attempt began
    bool restart = false;        // its answer was not the range asked for
  };
  static void on_save_timer(uv_timer_t* t);
  static void on_retry_timer(uv_timer_t* t);
  static void on_save_closed(uv_handle_t* h);
  static void on_retry_closed(uv_handle_t* h);
  void handle_closed();
  void enter(State s);
  void start_worker(Worker& w);
  void worker_finished(Worker& w, const TransferResult& r);
  // Ends the download: cancels the transfers still running; on_segments_done once all end.
  void stop(int code, bool restart, std::string why);
  void maybe_done();
  int save_record();

  uv_loop_t* loop_;
  RequestSpec base_;
  int fd_;
  SegmentMap map_;
  std::string map_path_;
  Owner& owner_;
  State state_ = State::Running;
  std::vector<std::unique_ptr<Worker>> workers_;
  uv_timer_t save_timer_{};
  int open_handles_ = 0;
  bool dirty_ = false;  // progress not yet in the record
  int code_ = 0;
  bool restart_ = false;
  std::string why_;
};

}  // namespace httpfs::client
