#include "client/h2_exchange.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "client/options.hpp"
#include "http/chars.hpp"
#include "http/parse_error.hpp"
#include "http/status.hpp"

namespace httpfs::client {

namespace {

// Windows the server may fill before this side reads: bodies go to a file as they arrive,
// so large windows cost no memory and spare round trips.
constexpr std::uint32_t kStreamWindow = 16u << 20;
constexpr std::int32_t kConnectionWindow = 32 << 20;
// Request body framed ahead of the socket.
constexpr std::uint64_t kHighWater = 1u << 20;
constexpr std::size_t kBuffer = 256 * 1024;

// Fields HTTP/2 does not carry (RFC 9113 8.2.2), or carries as pseudo-fields.
bool dropped_field(std::string_view lower) noexcept {
  static constexpr std::string_view kNames[] = {"host",    "connection",       "keep-alive",
                                                "upgrade", "proxy-connection", "transfer-encoding",
                                                "expect"};
  return std::find(std::begin(kNames), std::end(kNames), lower) != std::end(kNames);
}

nghttp2_nv nv(std::string_view n, std::string_view v) {
  auto p = [](std::string_view s) {
    return reinterpret_cast<std::uint8_t*>(const_cast<char*>(s.data()));
  };
  return {p(n), p(v), n.size(), v.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct H2ClientCallbacks {
  static H2Exchange& self(void* p) { return *static_cast<H2Exchange*>(p); }

  static ssize_t on_send(nghttp2_session*, const std::uint8_t* data, std::size_t length, int,
                         void* user) {
    H2Exchange& x = self(user);
    if (x.queued_end_ - x.out_.sent() >= kHighWater) return NGHTTP2_ERR_WOULDBLOCK;
    x.out_.append({reinterpret_cast<const char*>(data), length});
    x.queued_end_ += length;
    return static_cast<ssize_t>(length);
  }

  static ssize_t on_read_body(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t length,
                              std::uint32_t* flags, nghttp2_data_source*, void* user) {
    H2Exchange& x = self(user);
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, x.body_left_));
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (n == x.body_left_) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  static int on_send_data(nghttp2_session*, nghttp2_frame*, const std::uint8_t* header,
                          std::size_t length, nghttp2_data_source*, void* user) {
    H2Exchange& x = self(user);
    if (x.queued_end_ - x.out_.sent() >= kHighWater) return NGHTTP2_ERR_WOULDBLOCK;
    x.out_.append({reinterpret_cast<const char*>(header), 9});
    if (x.spec_.body == RequestSpec::Body::File)
      // The Session keeps the file open until the transfer has ended.
      x.out_.add_file(x.spec_.file_fd, x.spec_.file_offset + x.body_offset_, length, false);
    else if (x.spec_.body == RequestSpec::Body::Parts)
      queue_parts(x.out_, x.spec_.parts, x.body_offset_, length);
    else
      x.out_.append(std::string_view(x.spec_.bytes).substr(x.body_offset_, length));
    x.body_offset_ += length;
    x.body_left_ -= length;
    x.body_framed_ += length;
    x.queued_end_ += 9 + length;
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    H2Exchange& x = self(user);
    if (frame->hd.stream_id != x.stream_id_) return 0;
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      int s = 0;
      for (char c : v) s = s * 10 + (c - '0');  // nghttp2 checked: three digits
      x.status_ = s;
    } else if (!n.starts_with(':') && !x.got_final_) {
      x.fields_.append(n).append(": ").append(v).append("\r\n");
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    H2Exchange& x = self(user);
    if (frame->hd.stream_id != x.stream_id_) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !x.got_final_ && !x.take_head())
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
        (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS))
      x.complete_ = true;
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id,
                           const std::uint8_t* data, std::size_t len, void* user) {
    H2Exchange& x = self(user);
    if (id != x.stream_id_ || x.outcome_.done) return 0;
    x.result_.body_bytes += len;
    if (int code = x.handler_.on_body({reinterpret_cast<const char*>(data), len}); code != 0) {
      x.end(code, {});
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* user) {
    H2Exchange& x = self(user);
    if (id != x.stream_id_) return 0;
    if (x.complete_ && x.got_final_) {
      x.end(0, {});
    } else if (code == NGHTTP2_REFUSED_STREAM) {
      x.end(kPartial, "the server refused the request (REFUSED_STREAM): it may be retried");
    } else {
      x.end(kPartial, std::string("the server reset the stream (") + nghttp2_http2_strerror(code) +
                          ") after " + std::to_string(x.result_.body_bytes) + " body bytes");
    }
    return 0;
  }
};

H2Exchange::H2Exchange(const RequestSpec& spec, Transfer::Handler& handler, TransferResult& result,
                       net::Stream& stream, net::ByteBuffer& in, net::OutputQueue& out)
    : spec_(spec), handler_(handler), result_(result), stream_(stream), in_(in), out_(out) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_send_callback(cb, H2ClientCallbacks::on_send);
  nghttp2_session_callbacks_set_send_data_callback(cb, H2ClientCallbacks::on_send_data);
  nghttp2_session_callbacks_set_on_header_callback(cb, H2ClientCallbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, H2ClientCallbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, H2ClientCallbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, H2ClientCallbacks::on_stream_close);
  nghttp2_session_client_new(&session_, cb, this);
  nghttp2_session_callbacks_del(cb);
  queued_end_ = out_.sent();
}

H2Exchange::~H2Exchange() {
  nghttp2_session_del(session_);
}

H2Exchange::Outcome H2Exchange::start() {
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);

  // The HTTP/1 head's lines, as HTTP/2 fields: one place decides the defaults.
  const std::string head = request_head(spec_);
  std::vector<std::string> lower;  // the names, lower-cased; kept until submitted
  std::vector<std::pair<std::size_t, std::string_view>> fields;  // name index, value
  std::string_view authority;
  std::size_t at = head.find("\r\n") + 2;
  while (at < head.size() - 2) {
    const std::size_t eol = head.find("\r\n", at);
    const std::string_view line(head.data() + at, eol - at);
    at = eol + 2;
    const std::size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "host") authority = value;
    if (dropped_field(name) || (name == "te" && value != "trailers")) continue;
    lower.push_back(std::move(name));
    fields.emplace_back(lower.size() - 1, value);
  }
  std::vector<nghttp2_nv> nva;
  nva.push_back(nv(":method", spec_.method));
  nva.push_back(nv(":scheme", spec_.url.scheme));
  nva.push_back(nv(":authority", authority));
  nva.push_back(nv(":path", spec_.url.target));
  for (const auto& [i, v] : fields) nva.push_back(nv(lower[i], v));
  if (spec_.verbose) {
    std::fprintf(stderr, "* Using HTTP/2\n> %s %s HTTP/2\n", spec_.method.c_str(),
                 spec_.url.target.c_str());
    std::fprintf(stderr, "> :authority: %.*s\n", static_cast<int>(authority.size()),
                 authority.data());
    for (const auto& [i, v] : fields)
      std::fprintf(stderr, "> %s: %.*s\n", lower[i].c_str(), static_cast<int>(v.size()), v.data());
    std::fprintf(stderr, ">\n");
  }
  switch (spec_.body) {
    case RequestSpec::Body::Bytes:
      body_left_ = spec_.bytes.size();
      break;
    case RequestSpec::Body::File:
      body_left_ = spec_.file_size;
      break;
    case RequestSpec::Body::Parts:
      body_left_ = parts_length(spec_.parts);
      break;
    case RequestSpec::Body::None:
    case RequestSpec::Body::Stream:  // the Transfer never picks HTTP/2 for these
      break;
  }
  nghttp2_data_provider provider{};
  provider.read_callback = H2ClientCallbacks::on_read_body;
  const bool with_body = spec_.body != RequestSpec::Body::None;
  stream_id_ = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                      with_body ? &provider : nullptr, nullptr);
  if (stream_id_ < 0) {
    end(kInternal, std::string("cannot make the HTTP/2 request: ") + nghttp2_strerror(stream_id_));
    return outcome_;
  }
  result_.request_sent = true;
  return send();
}

H2Exchange::Outcome H2Exchange::step(int events) {
  if (!outcome_.done && (events & UV_READABLE)) receive();
  if (!outcome_.done) send();
  return outcome_;
}

H2Exchange::Outcome H2Exchange::receive() {
  for (int round = 0; round < 16 && !outcome_.done; ++round) {
    in_.make_room(kBuffer, kBuffer);
    const long n = stream_.read(in_);
    if (n == -EAGAIN) break;
    if (n <= 0) {
      end(kPartial, n == 0 ? "the server closed the connection before the end of the answer"
                           : "receive failed: " + stream_.describe(static_cast<int>(n)));
      break;
    }
    const std::string_view bytes = in_.view();
    const ssize_t rv = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    in_.consume(bytes.size());
    if (rv < 0 && !outcome_.done)
      end(kProtocol,
          std::string("invalid HTTP/2 from the server: ") + nghttp2_strerror(static_cast<int>(rv)));
  }
  return outcome_;
}

H2Exchange::Outcome H2Exchange::send() {
  for (int round = 0; round < 64 && !outcome_.done; ++round) {
    if (nghttp2_session_send(session_) != 0) {
      end(kInternal, "cannot frame the request");
      break;
    }
    if (out_.empty() && !stream_.output_pending()) break;
    std::size_t completed = 0;
    const net::OutputQueue::Flush r = stream_.flush(out_, completed);
    if (body_framed_ > 0) {
      const std::uint64_t unsent = queued_end_ - out_.sent();
      handler_.on_body_sent(body_framed_ > unsent ? body_framed_ - unsent : 0);
    }
    if (r == net::OutputQueue::Flush::Error) {
      // The server may have answered and closed: what it said is read first.
      out_.clear();
      receive();
      if (!outcome_.done) end(kPartial, "send failed: " + stream_.describe(out_.error()));
      break;
    }
    if (r != net::OutputQueue::Flush::Done) break;
    if (!nghttp2_session_want_write(session_)) break;
  }
  if (!outcome_.done && !nghttp2_session_want_read(session_) &&
      !nghttp2_session_want_write(session_))
    end(kPartial, "the server ended the HTTP/2 connection before answering");
  return outcome_;
}

bool H2Exchange::take_head() {
  std::string text = "HTTP/1.1 " + std::to_string(status_) + " " +
                     std::string(http::reason_phrase(status_)) + "\r\n" + fields_ + "\r\n";
  fields_.clear();
  parser_.reset();
  const http::ResponseParser::Result r = parser_.parse(text, http::method_from_token(spec_.method));
  if (r == http::ResponseParser::Result::Error || r == http::ResponseParser::Result::Incomplete) {
    end(kProtocol,
        std::string("invalid response: ") + std::string(http::error_message(parser_.error())));
    return false;
  }
  const http::ResponseHead& h = parser_.head();
  if (spec_.verbose) {
    std::fprintf(stderr, "< HTTP/2 %d\n", status_);
    for (const http::Header& f : h.headers)
      std::fprintf(stderr, "< %.*s: %.*s\n", static_cast<int>(f.name.size()), f.name.data(),
                   static_cast<int>(f.value.size()), f.value.data());
    std::fprintf(stderr, "<\n");
  }
  if (r == http::ResponseParser::Result::Interim) {
    handler_.on_interim(h);
    return true;
  }
  got_final_ = true;
  result_.status = h.status;
  result_.reason = std::string(h.reason);
  result_.version_minor = 1;
  for (const http::Header& f : h.headers)
    result_.headers.emplace_back(std::string(f.name), std::string(f.value));
  if (int code = handler_.on_head(h); code != 0) {
    end(code, {});
    return false;
  }
  return true;
}

void H2Exchange::end(int exit_code, std::string error) {
  if (outcome_.done) return;
  outcome_ = {true, exit_code, std::move(error)};
}

}  // namespace httpfs::client
