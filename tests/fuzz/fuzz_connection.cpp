// libFuzzer target: whole connections into a real server instance, in-process, over
// loopback. The input is cut into writes at points it chooses itself; the server runs on its
// own libuv loop in this thread, pumped between writes, with ASan and UBSan watching. After
// the last write the client half-closes and the server must end the connection; every
// connection must be gone, and every upload committed or cleaned up, before the next input.
//
// Input layout (fuzz_connection): byte 0 seeds the split points; the rest is the byte
// stream of the connection.
//
// fuzz_connection_h2 (the same source built with HTTPFS_FUZZ_H2): h2c by prior knowledge.
// Byte 0 seeds the split points, byte 1 is the mode, the rest is a list of records, each
// of which becomes frames (or a pause) after the client preface:
//
//   mode bit 0    no empty SETTINGS frame after the preface (nghttp2 wants one first)
//   mode bit 1    only the preface's first line, then the rest of the input as it is
//
//   record = op byte, then what the kind (op % 8) reads:
//   0 frame       type (% 10), flags, stream, length (2 bytes, cut to what is left), payload
//   1 raw         n, then n bytes written as they are (partial frames, garbage)
//   2 request     method, path, fields, fields2, flags, stream: a HEADERS frame with a
//                 well-formed HPACK block (literals, some static indexes), optionally split
//                 into CONTINUATION, padded, with PRIORITY, END_STREAM, or as trailers
//   3 data        stream, flags, length (2 bytes): DATA frames of filler, input or XML
//   4 settings    flags (bit 0 ACK), entries of id and value
//   5 window      stream, increment
//   6 control     RST_STREAM, PING, GOAWAY, PRIORITY or an unknown frame type
//   7 settle      what came so far is written; the server runs until it is quiet (answers
//                 and worker jobs), before the next frames
//
// A missing byte reads as 0. Streams are chosen from 0, 1, 3, 5, 7, the last opened, the
// next new one, an even id, 2^31-1 and the one before the last.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "server/options.hpp"
#include "server/server.hpp"

namespace {

struct Instance {
  uv_loop_t loop{};
  std::unique_ptr<httpfs::server::Server> server;
  int port = 0;
  std::string root;

  Instance() {
    // HTTPFS_FUZZ_TRACE=1: the server's debug lines too, and the access log.
    const bool trace = std::getenv("HTTPFS_FUZZ_TRACE") != nullptr;
    spdlog::set_level(trace ? spdlog::level::debug : spdlog::level::off);
    char tmpl[] = "/tmp/httpfs-fuzz-XXXXXX";
    root = ::mkdtemp(tmpl);
    namespace fs = std::filesystem;
    fs::create_directories(root + "/dir/sub");
    fs::create_directories(root + "/up");
    std::ofstream(root + "/index.html") << "<h1>index</h1>";
    std::ofstream(root + "/a.txt") << "hello";
    std::ofstream(root + "/dir/b.bin") << std::string(100000, 'b');
    std::ofstream(root + "/dir/sub/c.json") << "{}";
    uv_loop_init(&loop);
    httpfs::server::ServerOptions o;
    o.dir = root;
    o.port = 0;
    o.binds = {"127.0.0.1"};
    o.access_log = trace ? "-" : "off";
    o.verbose = trace;
    o.durable = false;  // the disk is not under test here
    o.header_timeout_ms = 1000;
    o.body_timeout_ms = 1000;
    o.send_timeout_ms = 1000;
    o.keepalive_timeout_ms = 1000;
    o.linger_timeout_ms = 200;
    o.max_body = 1 << 20;
    server = std::make_unique<httpfs::server::Server>(&loop, o);
    if (std::string err = server->start(); !err.empty()) {
      std::fprintf(stderr, "fuzz_connection: %s\n", err.c_str());
      std::abort();
    }
    const std::string url = server->urls().front();  // http://127.0.0.1:PORT/
    port = std::atoi(url.c_str() + url.rfind(':') + 1);
  }
};

Instance& instance() {
  static Instance* i = [] {
    auto* in = new Instance();  // lives for the whole run
    std::atexit([] { std::filesystem::remove_all(instance().root); });
    return in;
  }();
  return *i;
}

void pump(Instance& in, int rounds) {
  for (int i = 0; i < rounds; ++i) uv_run(&in.loop, UV_RUN_NOWAIT);
}

// What the server sent, kept only for HTTPFS_FUZZ_TRACE (fuzz_connection_h2).
std::string* received = nullptr;

// Reads and drops what the server sent; false once the server closed its side.
bool drain(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && received != nullptr) received->append(buf, static_cast<std::size_t>(n));
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EINTR;
  }
}

// Runs the server until it is quiet: nothing ready on its loop (answers written, worker
// jobs back) for a few milliseconds, or a bounded number of rounds.
void settle(Instance& in, int fd, bool& open) {
  for (int i = 0; i < 64 && open; ++i) {
    pollfd p{uv_backend_fd(&in.loop), POLLIN, 0};
    const int ready = ::poll(&p, 1, 2);
    pump(in, 2);
    open = drain(fd);
    if (ready == 0) break;
  }
}

// Writes `bytes` in pieces of 1..max_piece bytes, pumping the server between them.
void write_pieces(Instance& in, int fd, std::string_view bytes, std::mt19937& rng,
                  std::size_t max_piece, bool& open) {
  for (std::size_t off = 0; off < bytes.size() && open;) {
    const std::size_t piece = std::min<std::size_t>(bytes.size() - off, 1 + rng() % max_piece);
    ssize_t n = ::send(fd, bytes.data() + off, piece, MSG_NOSIGNAL);
    if (n > 0) off += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN) break;  // the server closed: the rest is never read
    pump(in, 2);
    open = drain(fd);
  }
}

#ifdef HTTPFS_FUZZ_H2

// The input, read from the front; a missing byte reads as 0.
struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool empty() const { return n == 0; }
  std::uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint32_t u32() { return std::uint32_t{u16()} << 16 | u16(); }
  std::string_view bytes(std::size_t k) {
    k = std::min(k, n);
    std::string_view v(reinterpret_cast<const char*>(p), k);
    p += k;
    n -= k;
    return v;
  }
};

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum FrameType : std::uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};
enum : std::uint8_t {
  kEndStream = 0x1,
  kAck = 0x1,
  kEndHeaders = 0x4,
  kPadded = 0x8,
  kPriorityFlag = 0x20,
};

void put32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// A frame whose length field is the length of `payload`.
void frame(std::string& out, std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
           std::string_view payload) {
  const std::size_t len = std::min<std::size_t>(payload.size(), 0xffffff);
  out.push_back(static_cast<char>(len >> 16));
  out.push_back(static_cast<char>(len >> 8));
  out.push_back(static_cast<char>(len));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put32(out, stream);
  out.append(payload.substr(0, len));
}

// HPACK (RFC 7541 5.1): an integer with an N-bit prefix, `first` holding the bits above it.
void hpack_int(std::string& out, std::uint8_t first, int prefix, std::size_t v) {
  const std::size_t max = (1u << prefix) - 1;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return;
  }
  out.push_back(static_cast<char>(first | max));
  for (v -= max; v >= 128; v >>= 7) out.push_back(static_cast<char>(0x80 | (v & 0x7f)));
  out.push_back(static_cast<char>(v));
}

// A literal field with a new name (6.2.1 / 6.2.2), never Huffman-coded.
void hpack_literal(std::string& out, bool indexing, std::string_view name, std::string_view value) {
  out.push_back(indexing ? '\x40' : '\x00');
  hpack_int(out, 0, 7, name.size());
  out.append(name);
  hpack_int(out, 0, 7, value.size());
  out.append(value);
}

// A literal field whose name is static-table entry `index` (without indexing, 6.2.2).
void hpack_named(std::string& out, std::size_t index, std::string_view value) {
  hpack_int(out, 0x00, 4, index);
  hpack_int(out, 0, 7, value.size());
  out.append(value);
}

struct Streams {
  std::uint32_t last = 0;  // the highest odd stream opened by a HEADERS frame
  std::uint32_t pick(std::uint8_t b) {
    switch (b % 10) {
      case 0:
        return 0;
      case 1:
        return 1;
      case 2:
        return 3;
      case 3:
        return 5;
      case 4:
        return 7;
      case 5:
        return last != 0 ? last : 1;
      case 6:
        return last + (last == 0 ? 1 : 2);  // the next new one
      case 7:
        return 2;
      case 8:
        return 0x7fffffff;
      default:
        return last > 2 ? last - 2 : 1;
    }
  }
  void opened(std::uint32_t id) {
    if ((id & 1) != 0 && id > last && id <= 0x7fffffff) last = id;
  }
};

constexpr std::string_view kMethods[] = {
    "GET",   "HEAD", "PUT",  "POST", "PROPFIND", "OPTIONS",   "DELETE",  "MKCOL",
    "PATCH", "MOVE", "COPY", "LOCK", "UNLOCK",   "PROPPATCH", "CONNECT", "BREW"};
// Reads go anywhere; writes stay under /up/ (and the upload space), so that the files every
// input reads are the same from one input to the next.
constexpr std::string_view kReadPaths[] = {"/",
                                           "/a.txt",
                                           "/dir/",
                                           "/up/x",
                                           "/dir/b.bin",
                                           "/index.html",
                                           "/dir/sub/c.json",
                                           "/nope",
                                           "/dir/?download=zip",
                                           "/dir/?download=tar",
                                           "/a.txt?q=1",
                                           "*",
                                           "/dir",
                                           "/%2e%2e/etc/passwd",
                                           "/.httpfs-upload/abc",
                                           "/up/"};
constexpr std::string_view kWritePaths[] = {
    "/up/x",     "/up/y.txt",           "/up/",   "/up/d/", "/up/d/e",
    "/up/x?z=1", "/.httpfs-upload/abc", "/up/big"};
constexpr std::string_view kXmlBodies[] = {
    R"(<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>)",
    R"(<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:getcontentlength/></D:prop></D:propfind>)",
    R"(<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>f</D:owner></D:lockinfo>)",
    R"(<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:a>1</Z:a></D:prop></D:set></D:propertyupdate>)",
};

bool is_write(std::string_view m) {
  return m == "PUT" || m == "POST" || m == "DELETE" || m == "MKCOL" || m == "PATCH" ||
         m == "MOVE" || m == "COPY" || m == "LOCK" || m == "UNLOCK" || m == "PROPPATCH";
}

// A request's (or trailers') header block, and the frames that carry it.
void request_headers(std::string& out, Reader& r, Streams& streams) {
  const std::string_view method = kMethods[r.u8() % std::size(kMethods)];
  const std::uint8_t path_byte = r.u8();
  const std::string_view path = is_write(method) ? kWritePaths[path_byte % std::size(kWritePaths)]
                                                 : kReadPaths[path_byte % std::size(kReadPaths)];
  const std::uint8_t f1 = r.u8();
  const std::uint8_t f2 = r.u8();
  const std::uint8_t flags = r.u8();
  const std::uint32_t stream = streams.pick(r.u8());
  const bool indexing = (flags & 0x10) != 0;
  const bool compact = (flags & 0x40) != 0;
  std::string block;
  if ((flags & 0x20) != 0) {  // trailers: fields only
    hpack_literal(block, indexing, "x-trailer", "1");
    if ((f1 & 1) != 0) hpack_literal(block, indexing, "content-digest", "sha-256=:AAAA:");
    if ((f1 & 2) != 0) hpack_literal(block, indexing, ":path", "/late");  // not allowed
  } else {
    if (compact && method == "GET") {
      block.push_back('\x82');
    } else if (compact && method == "POST") {
      block.push_back('\x83');
    } else {
      hpack_named(block, 2, method);
    }
    if (compact) {
      block.push_back('\x86');  // :scheme http
    } else {
      hpack_literal(block, indexing, ":scheme", "http");
    }
    if (compact && path == "/") {
      block.push_back('\x84');
    } else if (compact && path == "/index.html") {
      block.push_back('\x85');
    } else {
      hpack_literal(block, indexing, ":path", path);
    }
    if ((f2 & 0x80) != 0) {
      hpack_literal(block, indexing, "host", "127.0.0.1");
    } else {
      hpack_named(block, 1, "127.0.0.1");  // :authority
    }
    if ((f1 & 0x01) != 0) hpack_literal(block, indexing, "content-length", std::to_string(r.u16()));
    if ((f1 & 0x02) != 0) hpack_literal(block, indexing, "expect", "100-continue");
    if ((f1 & 0x04) != 0)
      hpack_literal(block, indexing, "range", (f2 & 0x01) != 0 ? "bytes=0-1,3-4" : "bytes=1-3");
    if ((f1 & 0x08) != 0) hpack_literal(block, indexing, "accept-encoding", "gzip, zstd, br");
    if ((f1 & 0x10) != 0)
      hpack_literal(block, indexing, "depth", (f2 & 0x01) != 0 ? "infinity" : "1");
    if ((f1 & 0x20) != 0) {
      hpack_literal(block, indexing, "upload-draft-interop-version", "6");
      hpack_literal(block, indexing, "upload-complete", (f2 & 0x02) != 0 ? "?1" : "?0");
    }
    if ((f1 & 0x40) != 0) hpack_literal(block, indexing, "if-none-match", "*");
    if ((f1 & 0x80) != 0) hpack_literal(block, indexing, "origin", "http://other.example");
    if ((f2 & 0x02) != 0 && (f1 & 0x20) == 0)
      hpack_literal(block, indexing, "content-type", "application/xml");
    if ((f2 & 0x04) != 0) hpack_literal(block, indexing, "upload-offset", "0");
    if ((f2 & 0x08) != 0) {
      hpack_literal(block, indexing, "destination", "http://127.0.0.1/up/z");
      hpack_literal(block, indexing, "overwrite", "T");
    }
    if ((f2 & 0x10) != 0) {
      hpack_literal(block, indexing, "cookie", "a=b");
      hpack_literal(block, indexing, "cookie", "c=d");
    }
    if ((f2 & 0x20) != 0) hpack_literal(block, indexing, "te", "trailers");
    if ((f2 & 0x40) != 0) {
      if ((f2 & 0x01) != 0) {
        hpack_literal(block, indexing, "connection", "close");  // not allowed in HTTP/2
      } else {
        for (int i = 0; i < 120; ++i)  // more than --max-headers
          hpack_literal(block, false, "x-h" + std::to_string(i), "v");
      }
    }
  }
  std::string payload;
  std::uint8_t hflags = (flags & 0x01) != 0 ? kEndStream : 0;
  std::uint8_t pad = 0;
  if ((flags & 0x04) != 0) {
    hflags |= kPadded;
    pad = r.u8() % 32;
    payload.push_back(static_cast<char>(pad));
  }
  if ((flags & 0x08) != 0) {
    hflags |= kPriorityFlag;
    put32(payload, streams.pick(r.u8()));          // dependency
    payload.push_back(static_cast<char>(r.u8()));  // weight
  }
  std::string_view rest = block;
  if ((flags & 0x02) != 0) {  // HEADERS with the block's first part, then CONTINUATION
    const std::size_t cut = rest.empty() ? 0 : r.u8() % rest.size();
    payload.append(rest.substr(0, cut));
    rest.remove_prefix(cut);
    payload.append(pad, '\0');
    frame(out, kHeaders, hflags, stream, payload);
    frame(out, kContinuation, (flags & 0x80) != 0 ? 0 : kEndHeaders, stream, rest);
  } else {
    payload.append(rest);
    payload.append(pad, '\0');
    if ((flags & 0x80) == 0) hflags |= kEndHeaders;
    frame(out, kHeaders, hflags, stream, payload);
  }
  streams.opened(stream);
}

void data_frames(std::string& out, Reader& r, Streams& streams) {
  const std::uint32_t stream = streams.pick(r.u8());
  const std::uint8_t flags = r.u8();
  const std::size_t len = r.u16() % 16385;
  const int count = 1 + (flags >> 4) % 8;
  for (int i = 0; i < count; ++i) {
    std::string payload;
    std::uint8_t pad = 0;
    if ((flags & 0x02) != 0) {
      pad = r.u8();
      payload.push_back(static_cast<char>(pad));
    }
    if ((flags & 0x04) != 0) {
      payload.append(r.bytes(len));
    } else if ((flags & 0x08) != 0) {
      payload.append(kXmlBodies[len % std::size(kXmlBodies)]);
    } else {
      payload.append(len, 'x');
    }
    payload.append(pad, '\0');
    const bool last = i + 1 == count;
    frame(out, kData, last && (flags & 0x01) != 0 ? kEndStream : 0, stream, payload);
  }
}

void settings_frame(std::string& out, Reader& r) {
  const std::uint8_t flags = r.u8();
  std::string payload;
  if ((flags & 0x01) == 0) {
    for (int i = (flags >> 1) % 5; i > 0; --i) {
      const std::uint8_t id = r.u8() % 8;  // 1..6 are known; 0 and 7 are not
      payload.push_back(0);
      payload.push_back(static_cast<char>(id));
      constexpr std::uint32_t kValues[] = {0,        1,        100,        16384,      65535,
                                           1u << 20, 0xffffff, 0x7fffffff, 0x80000000, 65536};
      const std::uint8_t v = r.u8();
      put32(payload, v < 200 ? kValues[v % std::size(kValues)] : r.u32());
    }
  }
  frame(out, kSettings, (flags & 0x01) != 0 ? kAck : 0, 0, payload);
}

void window_update(std::string& out, Reader& r, Streams& streams) {
  const std::uint32_t stream = streams.pick(r.u8());
  constexpr std::uint32_t kIncrements[] = {1, 1024, 65535, 1u << 20, 1u << 24, 0x7fffffff, 0};
  const std::uint8_t v = r.u8();
  std::string payload;
  put32(payload, v < 240 ? kIncrements[v % std::size(kIncrements)] : r.u32());
  frame(out, kWindowUpdate, 0, stream, payload);
}

void control_frame(std::string& out, Reader& r, Streams& streams) {
  const std::uint8_t sub = r.u8();
  std::string payload;
  switch (sub % 5) {
    case 0: {  // RST_STREAM
      const std::uint32_t stream = streams.pick(r.u8());
      put32(payload, r.u8() % 14);
      frame(out, kRstStream, 0, stream, payload);
      break;
    }
    case 1:  // PING
      payload.append(r.bytes(8));
      payload.resize(8, '\0');
      frame(out, kPing, (sub & 0x80) != 0 ? kAck : 0, 0, payload);
      break;
    case 2:  // GOAWAY
      put32(payload, streams.pick(r.u8()));
      put32(payload, r.u8() % 14);
      if ((sub & 0x80) != 0) payload.append("bye");
      frame(out, kGoaway, 0, 0, payload);
      break;
    case 3: {  // PRIORITY
      const std::uint32_t stream = streams.pick(r.u8());
      put32(payload, streams.pick(r.u8()) | ((sub & 0x80) != 0 ? 0x80000000u : 0));
      payload.push_back(static_cast<char>(r.u8()));
      frame(out, kPriority, 0, stream, payload);
      break;
    }
    default: {  // a type nobody knows, or ALTSVC/ORIGIN, which a server ignores
      const std::uint8_t type = static_cast<std::uint8_t>(10 + r.u8() % 246);
      frame(out, type, r.u8(), streams.pick(r.u8()), r.bytes(r.u8() % 32));
      break;
    }
  }
}

// The connection's bytes, cut where the input asks the server to settle.
std::vector<std::string> h2_segments(Reader r) {
  std::vector<std::string> segs(1);
  const std::uint8_t mode = r.u8();
  if ((mode & 0x02) != 0) {
    segs.back().append(kPreface.substr(0, 16));
    segs.back().append(r.bytes(r.n));
    return segs;
  }
  segs.back().append(kPreface);
  if ((mode & 0x01) == 0) frame(segs.back(), kSettings, 0, 0, {});
  Streams streams;
  while (!r.empty()) {
    std::string& out = segs.back();
    switch (r.u8() % 8) {
      case 0: {
        const std::uint8_t type = r.u8() % 10;
        const std::uint8_t flags = r.u8();
        const std::uint32_t stream = streams.pick(r.u8());
        const std::size_t len = r.u16();
        frame(out, type, flags, stream, r.bytes(len));
        if (type == kHeaders) streams.opened(stream);
        break;
      }
      case 1:
        out.append(r.bytes(r.u8()));
        break;
      case 2:
        request_headers(out, r, streams);
        break;
      case 3:
        data_frames(out, r, streams);
        break;
      case 4:
        settings_frame(out, r);
        break;
      case 5:
        window_update(out, r, streams);
        break;
      case 6:
        control_frame(out, r, streams);
        break;
      default:
        segs.emplace_back();
        break;
    }
  }
  return segs;
}

// HTTPFS_FUZZ_TRACE=1: the frames the server sent, on stderr, with their header fields, to
// check by hand what an input reaches.
void trace(std::string_view in, const char* dir) {
  nghttp2_hd_inflater* hd = nullptr;
  nghttp2_hd_inflate_new(&hd);
  static constexpr const char* kNames[] = {"DATA",          "HEADERS",     "PRIORITY", "RST_STREAM",
                                           "SETTINGS",      "PUSH",        "PING",     "GOAWAY",
                                           "WINDOW_UPDATE", "CONTINUATION"};
  while (in.size() >= 9) {
    const auto* h = reinterpret_cast<const std::uint8_t*>(in.data());
    const std::size_t len = std::size_t{h[0]} << 16 | std::size_t{h[1]} << 8 | h[2];
    const std::uint32_t id =
        (std::uint32_t{h[5]} << 24 | std::uint32_t{h[6]} << 16 | std::uint32_t{h[7]} << 8 | h[8]) &
        0x7fffffff;
    if (in.size() < 9 + len) break;
    std::string_view payload = in.substr(9, len);
    std::fprintf(stderr, "%s %s stream %u flags 0x%x length %zu", dir,
                 h[3] < 10 ? kNames[h[3]] : "?", id, h[4], len);
    if (h[3] == kHeaders || h[3] == kContinuation) {
      auto* p = reinterpret_cast<const std::uint8_t*>(payload.data());
      std::size_t left = payload.size();
      for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        const ssize_t used =
            nghttp2_hd_inflate_hd2(hd, &nv, &flags, p, left, (h[4] & kEndHeaders) != 0);
        if (used < 0) break;
        p += used;
        left -= static_cast<std::size_t>(used);
        if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0)
          std::fprintf(stderr, "\n     %.*s: %.*s", int(nv.namelen),
                       reinterpret_cast<char*>(nv.name), int(nv.valuelen),
                       reinterpret_cast<char*>(nv.value));
        if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
          nghttp2_hd_inflate_end_headers(hd);
          break;
        }
        if (used == 0 && (flags & NGHTTP2_HD_INFLATE_EMIT) == 0) break;
      }
    } else if (h[3] == kData) {
      std::fprintf(stderr, " \"%.*s\"", int(std::min<std::size_t>(len, 60)), payload.data());
    } else if (h[3] == kGoaway && len >= 8) {
      std::fprintf(stderr, " last %u code %u",
                   (std::uint32_t(std::uint8_t(payload[0])) << 24 |
                    std::uint32_t(std::uint8_t(payload[1])) << 16 |
                    std::uint32_t(std::uint8_t(payload[2])) << 8 | std::uint8_t(payload[3])),
                   std::uint32_t(std::uint8_t(payload[7])));
    } else if (h[3] == kRstStream && len == 4) {
      std::fprintf(stderr, " code %u", std::uint32_t(std::uint8_t(payload[3])));
    }
    std::fprintf(stderr, "\n");
    in.remove_prefix(9 + len);
  }
  if (!in.empty()) std::fprintf(stderr, "%s %zu bytes more\n", dir, in.size());
  nghttp2_hd_inflate_del(hd);
}

#endif  // HTTPFS_FUZZ_H2

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Instance& in = instance();
  std::mt19937 rng(data[0]);
#ifdef HTTPFS_FUZZ_H2
  const std::vector<std::string> segments = h2_segments({data + 1, size - 1});
  // Frames are many and large: small pieces for an odd seed, larger ones for an even one.
  const std::size_t max_piece = (data[0] & 1) != 0 ? 64 : 4096;
  static std::string* tracing = std::getenv("HTTPFS_FUZZ_TRACE") ? new std::string : nullptr;
  received = tracing;
  if (tracing != nullptr) {
    tracing->clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      std::string_view seg = segments[i];
      if (i == 0 && seg.starts_with(kPreface)) seg.remove_prefix(kPreface.size());
      std::fprintf(stderr, "-> segment %zu\n", i);
      trace(seg, "->");
    }
  }
#else
  const std::vector<std::string_view> segments{{reinterpret_cast<const char*>(data + 1), size - 1}};
  const std::size_t max_piece = 64;
#endif

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(in.port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS on loopback
  pump(in, 2);

  bool open = true;
  for (std::size_t i = 0; i < segments.size() && open; ++i) {
    if (i > 0) settle(in, fd, open);
    write_pieces(in, fd, segments[i], rng, max_piece, open);
  }
  ::shutdown(fd, SHUT_WR);
  // The server must end the connection: EOF after a partial request, or after the answers.
  for (int i = 0; i < 2000 && open; ++i) {
    pump(in, 1);
    open = drain(fd);
    if (open && i > 50) uv_run(&in.loop, UV_RUN_ONCE);  // let timers (linger, commit) fire
  }
  if (open) {
    std::fprintf(stderr, "fuzz_connection: the server kept a half-closed connection open\n");
    std::abort();
  }
  ::close(fd);
  for (int i = 0; i < 1000 && in.server->connection_count() > 0; ++i) uv_run(&in.loop, UV_RUN_ONCE);
  if (in.server->connection_count() != 0) {
    std::fprintf(stderr, "fuzz_connection: a connection outlived its socket\n");
    std::abort();
  }
#ifdef HTTPFS_FUZZ_H2
  if (received != nullptr) trace(*received, "<-");
#endif
  return 0;
}
