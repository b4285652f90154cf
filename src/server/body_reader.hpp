// The body of the request an HTTP/1 connection is answering: its framing (a BodyDecoder),
// where its bytes go (a handler's BodySink, or nowhere: a small body nobody asked for is
// dropped), the pipe for zero-copy, and the minimum-rate window.
//
// A body no handler took is either dropped (RFC 9112 9.6: read and discard it, so that the
// connection can go on) or left unread, in which case the answer ends the connection; see
// unread_body().
//
// Lifetime: part of the connection's InFlight; reset() between requests. The sink it holds
// is the handler's, owned here until the body ends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/body_decoder.hpp"
#include "http/request_parser.hpp"
#include "net/byte_buffer.hpp"
#include "net/stream.hpp"
#include "server/body_rate.hpp"
#include "server/handler.hpp"

namespace httpfs::server {

// What becomes of a request body that no handler takes (RFC 9112 9.6, RFC 9110 10.1.1).
enum class UnreadBody : std::uint8_t {
  None,   // there is no body
  Drop,   // small and not awaited: read and dropped, the connection persists
  Close,  // an upload refused, a body the client waits for permission to send, or a large
          // one: not read; the answer ends the connection
};
UnreadBody unread_body(const http::RequestHead& head) noexcept;

// Whether a body to be dropped is read before the request is dispatched: one that no handler
// of its method takes (all but the XML-bodied WebDAV methods). Its framing is then known to
// be sound before anything is done or answered: a broken one gets 400 (RFC 9112 6.3), not a
// 200 followed by a closed connection, and a DELETE whose body breaks deletes nothing.
bool read_before_dispatch(const http::RequestHead& head) noexcept;

// A request body nobody asked for is read and dropped up to this size.
inline constexpr std::uint64_t kMaxDiscard = 64 * 1024;

class BodyReader {
 public:
  enum class Status : std::uint8_t {
    Incomplete,  // more is to come
    Complete,    // the whole body arrived
    Faulted,     // the sink refused it, or its framing broke: fault()
    Abandoned,   // a dropped body that broke or grew too large (fault() says which): the
                 // connection ends
  };

  // Reads the body of `head` into `sink` (null: drops it). `now`: the rate window starts.
  void start(const http::RequestHead& head, std::unique_ptr<BodySink> sink, std::uint64_t now);
  // The body of `head` is not read: the answer ends the connection (and lingers for it).
  void leave_unread(const http::RequestHead& head);
  void reset();

  // A body is being read: start() came, and neither the body nor its sink is done.
  bool active() const noexcept { return sink_ || reading_; }
  // The client may still be sending: body bytes nobody will read, or (after a fault) the
  // requests it pipelined behind the failed one.
  bool unread() const noexcept { return !decoder_.done() || faulted_; }
  BodySink* sink() const noexcept { return sink_.get(); }
  std::unique_ptr<BodySink> take_sink() noexcept { return std::move(sink_); }
  const BodyFault& fault() const noexcept { return fault_; }

  // Decodes what `in` holds into the sink, consuming it.
  Status feed(net::ByteBuffer& in);
  // Zero-copy: whether the next bytes may go from the socket straight into the sink.
  bool can_splice(const net::Stream& stream, const net::ByteBuffer& in) const noexcept;
  // Moves body bytes from `stream` into the sink. Eof and ReadFailed in `end`: the client or
  // the socket failed; NoPipe: read() instead.
  Status splice(net::Stream& stream, net::SpliceResult& result);
  // After bytes arrived: false when the body is slower than `min_rate` bytes/s over a window
  // of `window_ms`; `why` then says how slow.
  bool progress(std::uint64_t now, std::uint64_t min_rate, std::uint64_t window_ms,
                std::string& why);

  // The sink found the complete body unacceptable (finish() returned a fault).
  void failed_at_end(BodyFault f);

 private:
  Status end_step();
  Status fail(BodyFault f);

  http::BodyDecoder decoder_ = http::BodyDecoder::none();
  std::unique_ptr<BodySink> sink_;
  std::unique_ptr<net::SplicePipe> pipe_;  // made on the first splice
  RateWindow rate_;
  BodyFault fault_;
  bool reading_ = false;  // start() came and the body is not complete yet
  bool faulted_ = false;  // the body failed: the answer ends the connection
};

}  // namespace httpfs::server
