#include "server/file_handler.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <random>
#include <unordered_set>
#include <vector>

#include "http/conditional.hpp"
#include "http/content_encoder.hpp"
#include "http/date.hpp"
#include "http/mime.hpp"
#include "http/negotiate.hpp"
#include "http/percent.hpp"
#include "http/range.hpp"
#include "http/status.hpp"
#include "io/dir_listing.hpp"
#include "io/file_cache.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/archive.hpp"
#include "server/compressed_body.hpp"
#include "server/compression.hpp"
#include "server/errno_status.hpp"
#include "server/ui.hpp"

namespace httpfs::server {

namespace {

// Bodies up to this size are read into the response buffer and leave with the head in one
// send; larger ones go out with sendfile(2).
constexpr std::uint64_t kInlineBodyMax = 16 * 1024;

const std::string& multipart_boundary() {
  static const std::string boundary = [] {
    std::random_device rd;
    char buf[40];
    std::snprintf(buf, sizeof buf, "httpfs-%08x%08x", rd(), rd());
    return std::string(buf);
  }();
  return boundary;
}

std::string content_range(std::uint64_t first, std::uint64_t last, std::uint64_t size) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, size);
  return buf;
}

// Where a file's bytes come from: the cache, or an open descriptor (owned by the caller).
struct Source {
  int fd = -1;
  std::shared_ptr<const io::FileCache::Entry> entry;
  bool taken = false;  // the descriptor went to a body piece
};

// Which representation of a file is sent (RFC 9110 3.2): its media type (a precompressed
// sibling's is the original's), its content coding, whether the coding is made here as the
// body is sent (else the source's bytes are sent as they are), and whether the answer
// depends on Accept-Encoding.
struct Representation {
  std::string_view type;
  http::Coding coding = http::Coding::Identity;
  bool on_the_fly = false;
  bool vary = false;
};

// Reads [offset, offset + length) of fd into the reply. Returns false when the file turned
// out shorter than its size said (it changed under us): the response cannot be completed.
bool inline_body(Reply& reply, int fd, std::uint64_t offset, std::uint64_t length) {
  if (reply.head_only() || length == 0) return true;
  char buf[kInlineBodyMax];
  std::uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(
        fd, buf, static_cast<std::size_t>(std::min<std::uint64_t>(length - done, sizeof buf)),
        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    reply.body(std::string_view(buf, static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  return true;
}

// Adds [offset, offset + length) of the source to the reply: a view of the cached bytes, a
// copy for small ranges, or a sendfile(2) piece. The last piece (`last`) takes the source's
// descriptor; earlier ones (multipart) get a duplicate. False when the body cannot be
// completed.
bool add_body(Reply& reply, Source& src, std::uint64_t offset, std::uint64_t length, bool last) {
  if (reply.head_only() || length == 0) return true;
  if (src.entry) {
    reply.body_external(src.entry->content.data() + offset, static_cast<std::size_t>(length),
                        src.entry);
    return true;
  }
  if (length <= kInlineBodyMax) return inline_body(reply, src.fd, offset, length);
  if (last) {
    reply.body_file(src.fd, offset, length, true);
    src.taken = true;
    return true;
  }
  int fd = ::fcntl(src.fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return false;
  reply.body_file(fd, offset, length, true);
  return true;
}

// A status from the errno; a server fault (5xx) is logged, a client's (4xx) is not.
void reply_errno(Reply& reply, int err, std::string_view path, std::string_view what) {
  int status = status_from_errno(err);
  if (status >= 500) spdlog::warn("{} {}: {}", status, path, net::errno_text(err < 0 ? -err : err));
  std::string detail(what);
  if (status == 404)
    detail = "There is nothing at this path.";
  else if (status == 403)
    detail = "Access to this path is not allowed.";
  else if (status == 503)
    detail = "The server is out of resources; try again shortly.";
  reply_error(reply, status, detail);
}

// 200 with the file's bytes coded as they are sent: from the entry's memoized coded form
// (small files: coded once, then sent like any cached file), else streamed in slices.
void serve_coded(const FileContext& ctx, const Representation& rep, Source& src, std::uint64_t size,
                 Reply& reply) {
  if (src.entry) {
    std::string& coded = src.entry->coded[static_cast<std::size_t>(rep.coding)];
    if (coded.empty())
      coded = http::encode_all(rep.coding, ctx.options.compress_level, src.entry->content);
    reply.end_head(coded.size());
    if (!reply.head_only()) reply.body_external(coded.data(), coded.size(), src.entry);
    reply.finish();
    return;
  }
  reply.end_head_streamed();
  src.taken = true;
  reply.body_source(CompressedBody::of_file(src.fd, size, rep.coding, ctx.options.compress_level));
  reply.finish();
}

void serve_file(const FileContext& ctx, const http::RequestHead& req, const Representation& rep,
                Source& src, const struct stat& st, Reply& reply) {
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // A cache entry carries its validators; for a file read from disk they are made here.
  std::string etag_buf;
  char lm_buf[http::kHttpDateLength];
  std::string_view etag, lm;
  if (src.entry) {
    etag = src.entry->etag;
    lm = src.entry->last_modified;
  } else {
    etag_buf = io::file_etag(st);
    etag = etag_buf;
    http::format_http_date(st.st_mtim.tv_sec, lm_buf);
    lm = std::string_view(lm_buf, sizeof lm_buf);
  }
  if (rep.on_the_fly) {
    etag_buf = coded_etag(etag, rep.coding);
    etag = etag_buf;
  }
  const http::Validators v{true, etag, st.st_mtim.tv_sec};
  const std::string_view type = rep.type;

  switch (http::evaluate_preconditions(req, v)) {
    case http::Precondition::NotModified:
      reply.begin(http::status::kNotModified);
      reply.header("ETag", etag);
      reply.header("Last-Modified", lm);
      if (rep.vary) reply.header("Vary", "Accept-Encoding");
      reply.end_head(0);
      reply.finish();
      return;
    case http::Precondition::Failed:
      reply_error(reply, http::status::kPreconditionFailed,
                  "A precondition of the request does not hold.");
      return;
    case http::Precondition::Proceed:
      break;
  }

  http::RangeRequest ranges;
  if (req.method == http::Method::Get) {
    if (const http::Header* r = req.find("range")) {
      const http::Header* if_range = req.find("if-range");
      if (if_range == nullptr || http::if_range_holds(if_range->value, v))
        ranges = http::parse_range(r->value, size, ctx.options.max_ranges);
    }
  }

  using Kind = http::RangeRequest::Kind;
  if (ranges.kind == Kind::Unsatisfiable) {
    reply_error(reply, http::status::kRangeNotSatisfiable,
                "The requested range is not within the file.", "Content-Range",
                "bytes */" + std::to_string(size));
    return;
  }

  auto common_headers = [&] {
    reply.header("Last-Modified", lm);
    reply.header("ETag", etag);
    if (rep.coding != http::Coding::Identity)
      reply.header("Content-Encoding", http::coding_name(rep.coding));
    if (rep.vary) reply.header("Vary", "Accept-Encoding");
    // Ranges of a coded body made here are not offered: they would not be stable.
    if (!rep.on_the_fly) reply.header("Accept-Ranges", "bytes");
    if (!ctx.options.trust_content) reply.header("Content-Security-Policy", kUserContentPolicy);
  };

  if (rep.on_the_fly) {  // never with a Range (compression.hpp)
    reply.begin(http::status::kOk);
    reply.header("Content-Type", type);
    common_headers();
    serve_coded(ctx, rep, src, size, reply);
    return;
  }

  bool complete = true;
  if (ranges.kind == Kind::Satisfiable && ranges.ranges.size() == 1) {
    const http::ByteRange& r = ranges.ranges.front();
    reply.begin(http::status::kPartialContent);
    reply.header("Content-Type", type);
    reply.header("Content-Range", content_range(r.first, r.last(), size));
    common_headers();
    reply.end_head(r.length);
    complete = add_body(reply, src, r.first, r.length, true);
  } else if (ranges.kind == Kind::Satisfiable) {
    // multipart/byteranges (RFC 9110 14.6): part heads in memory, part bodies from the file.
    const std::string& boundary = multipart_boundary();
    std::vector<std::string> part_heads;
    std::uint64_t total = 0;
    for (const http::ByteRange& r : ranges.ranges) {
      std::string h = "\r\n--" + boundary + "\r\nContent-Type: " + std::string(type) +
                      "\r\nContent-Range: " + content_range(r.first, r.last(), size) + "\r\n\r\n";
      total += h.size() + r.length;
      part_heads.push_back(std::move(h));
    }
    const std::string tail = "\r\n--" + boundary + "--\r\n";
    total += tail.size();
    reply.begin(http::status::kPartialContent);
    reply.header("Content-Type", "multipart/byteranges; boundary=" + boundary);
    common_headers();
    reply.end_head(total);
    for (std::size_t i = 0; i < ranges.ranges.size() && complete; ++i) {
      reply.body(part_heads[i]);
      complete = add_body(reply, src, ranges.ranges[i].first, ranges.ranges[i].length,
                          i + 1 == ranges.ranges.size());
    }
    reply.body(tail);
  } else {
    reply.begin(http::status::kOk);
    reply.header("Content-Type", type);
    common_headers();
    reply.end_head(size);
    complete = add_body(reply, src, 0, size, true);
  }
  // A file that shrank while being read leaves a body shorter than promised.
  if (complete)
    reply.finish();
  else
    reply.finish_incomplete();
}

// A source for an open regular file: its cache entry when it fits the cache, else the
// descriptor. Takes fd (closes it when the cache holds the bytes).
Source open_source(const FileContext& ctx, std::string_view key, std::string_view file, int fd,
                   const struct stat& st) {
  Source src;
  if (ctx.cache != nullptr && ctx.cache->cacheable_size(static_cast<std::uint64_t>(st.st_size)))
    src.entry = ctx.cache->insert(key, file, fd, st, ctx.now);
  if (src.entry)
    ::close(fd);
  else
    src.fd = fd;
  return src;
}

// True when a precompressed sibling may stand for the file: not older (a file edited after
// its .gz was made must not be answered with the old bytes). gzip, zstd and brotli give the
// sibling the file's mtime; brotli copies only whole seconds, so a sibling in the file's
// second with no nanoseconds at all counts as made from it.
bool sibling_is_fresh(const struct stat& sibling, const struct stat& original) {
  if (sibling.st_mtim.tv_sec != original.st_mtim.tv_sec)
    return sibling.st_mtim.tv_sec > original.st_mtim.tv_sec;
  return sibling.st_mtim.tv_nsec >= original.st_mtim.tv_nsec || sibling.st_mtim.tv_nsec == 0;
}

// A stale sibling is a fault of whoever made it: said once per sibling and mtime, not on
// every request (the set is bounded; past that, lines may repeat).
void log_stale_sibling(std::string_view sibling, const struct stat& st) {
  static std::mutex mutex;
  static std::unordered_set<std::string> logged;
  std::string key = std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                    " " + std::string(sibling);
  std::lock_guard lock(mutex);
  if (logged.size() >= 4096) logged.clear();
  if (logged.insert(std::move(key)).second)
    spdlog::warn("{}: older than the file it compresses; not served until remade", sibling);
}

// The precompressed sibling of `file` in `coding` (file.gz, ...), when it is a regular file
// under the root and fresh; a source with neither fd nor entry otherwise.
Source open_sibling(const FileContext& ctx, std::string_view file, const struct stat& original,
                    http::Coding coding, struct stat& st) {
  const std::string name = std::string(file) + std::string(http::coding_suffix(coding));
  if (ctx.cache != nullptr) {
    if (auto entry = ctx.cache->lookup(name, ctx.now)) {
      st = entry->st;
      if (sibling_is_fresh(st, original)) return Source{-1, entry};
      log_stale_sibling(name, st);
      return {};
    }
  }
  int fd = ctx.root.open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return {};
  }
  if (!sibling_is_fresh(st, original)) {
    log_stale_sibling(name, st);
    ::close(fd);
    return {};
  }
  return open_source(ctx, name, name, fd, st);
}

void serve_source(const FileContext& ctx, const http::RequestHead& req, const Representation& rep,
                  Source src, const struct stat& st, Reply& reply) {
  serve_file(ctx, req, rep, src, st, reply);
  if (src.fd >= 0 && !src.taken) ::close(src.fd);
}

// Serves a regular file (`file`, its source and stat) in the representation the request
// accepts best: a fresh precompressed sibling, a coding made on the fly, or the file as it
// is. Closes the source's descriptor unless a body took it.
void serve_regular(const FileContext& ctx, const http::RequestHead& req, std::string_view file,
                   Source src, const struct stat& st, Reply& reply) {
  const auto size = static_cast<std::uint64_t>(st.st_size);
  Representation rep;
  rep.type = http::mime_type_for(file);
  rep.vary = varies_by_coding(ctx.options, rep.type, size);
  http::CodingSet siblings;
  if (ctx.options.precompressed)
    siblings = {http::Coding::Zstd, http::Coding::Br, http::Coding::Gzip};
  const http::CodingSet on_the_fly =
      on_the_fly_codings(ctx.options, req, rep.type, size, BodyKind::File);
  // One probe per sibling the client accepts, best first; a missing or stale one leaves the
  // next choice.
  for (const CodingChoice& choice : coding_choices(req, siblings, on_the_fly)) {
    rep.coding = choice.coding;
    if (!choice.precompressed) {
      rep.on_the_fly = true;
      break;
    }
    struct stat sst {};
    Source sib = open_sibling(ctx, file, st, choice.coding, sst);
    if (sib.fd >= 0 || sib.entry) {
      if (src.fd >= 0) ::close(src.fd);
      serve_source(ctx, req, rep, std::move(sib), sst, reply);
      return;
    }
    rep.coding = http::Coding::Identity;
  }
  serve_source(ctx, req, rep, std::move(src), st, reply);
}

void serve_listing(const FileContext& ctx, const http::RequestHead& req,
                   const http::RequestPath& path, Reply& reply) {
  if (!ctx.options.listing) {
    reply_error(reply, http::status::kForbidden, "Directory listings are turned off.");
    return;
  }
  static constexpr std::array<std::string_view, 3> kTypes = {"text/html", "application/json",
                                                             "text/plain"};
  io::ListingFormat format = io::ListingFormat::Html;
  if (auto f = http::query_param(path.query, "format")) {
    if (*f == "json")
      format = io::ListingFormat::Json;
    else if (*f == "text")
      format = io::ListingFormat::Text;
    else if (*f != "html") {
      reply_error(reply, http::status::kBadRequest, "format must be html, json or text.");
      return;
    }
  } else {
    const http::Header* accept = req.find("accept");
    int i = http::choose_media_type(accept ? accept->value : std::string_view{}, kTypes);
    if (i < 0) {
      reply_error(reply, 406,
                  "A listing is available as text/html, application/json or text/plain.");
      return;
    }
    format = static_cast<io::ListingFormat>(i);
  }
  io::ListingSort key = io::ListingSort::Name;
  if (auto s = http::query_param(path.query, "sort")) {
    if (*s == "size")
      key = io::ListingSort::Size;
    else if (*s == "mtime")
      key = io::ListingSort::Mtime;
    else if (*s != "name") {
      reply_error(reply, http::status::kBadRequest, "sort must be name, size or mtime.");
      return;
    }
  }
  bool desc = false;
  if (auto o = http::query_param(path.query, "order")) {
    if (*o == "desc")
      desc = true;
    else if (*o != "asc") {
      reply_error(reply, http::status::kBadRequest, "order must be asc or desc.");
      return;
    }
  }
  std::vector<io::DirEntry> entries;
  if (int r = io::read_directory(ctx.root, path.path, ctx.options.show_hidden,
                                 ctx.options.max_listing_entries, entries);
      r < 0) {
    reply_errno(reply, r, path.path, "The directory cannot be read.");
    return;
  }
  io::sort_entries(entries, key, desc);
  std::string body = io::render_listing(format, path.path, entries, key, desc);
  static constexpr std::array<std::string_view, 3> kContentTypes = {
      "text/html; charset=utf-8", "application/json", "text/plain; charset=utf-8"};
  const std::string_view type = kContentTypes[static_cast<std::size_t>(format)];
  const http::Coding coding = negotiate_coding(
      req, on_the_fly_codings(ctx.options, req, type, body.size(), BodyKind::Listing));
  reply.begin(http::status::kOk);
  reply.header("Content-Type", type);
  reply.header("Vary", ctx.options.compress ? "Accept, Accept-Encoding" : "Accept");
  reply.header("Cache-Control", "no-cache");
  if (coding == http::Coding::Identity) {
    reply.end_head(body.size());
    reply.body(body);
    reply.finish();
    return;
  }
  reply.header("Content-Encoding", http::coding_name(coding));
  if (body.size() <= CompressedBody::kSlice) {  // one slice: at once, with its length
    const std::string coded = http::encode_all(coding, ctx.options.compress_level, body);
    reply.end_head(coded.size());
    reply.body(coded);
    reply.finish();
    return;
  }
  reply.end_head_streamed();
  auto owned = std::make_shared<const std::string>(std::move(body));
  const std::string_view bytes = *owned;
  reply.body_source(
      CompressedBody::of_bytes(std::move(owned), bytes, coding, ctx.options.compress_level));
  reply.finish();
}

}  // namespace

bool is_hidden_path(std::string_view path) noexcept {
  std::size_t pos = 0;
  while ((pos = path.find("/.", pos)) != std::string_view::npos) {
    std::string_view seg = path.substr(pos + 1, path.find('/', pos + 1) - pos - 1);
    if (seg != ".well-known") return true;
    pos += 2;
  }
  return false;
}

namespace {

// Answers in `reply`, or returns the job that will (a folder's archive).
std::unique_ptr<Job> serve_get(const FileContext& ctx, const http::RequestHead& req,
                               const http::RequestPath& path, Reply& reply) {
  if (!ctx.options.show_hidden && is_hidden_path(path.path)) {
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return nullptr;
  }
  // A folder's archive is never a cached file (its index.html is cached under its path).
  if (ctx.cache != nullptr && archive_format(path.query) == ArchiveFormat::None) {
    if (auto entry = ctx.cache->lookup(path.path, ctx.now)) {
      serve_regular(ctx, req, entry->file, Source{-1, entry}, entry->st, reply);
      return nullptr;
    }
  }
  // O_NONBLOCK: opening a FIFO someone left in the directory must not hang the loop.
  struct stat st {};
  int fd = ctx.root.open_stat(path.path, O_RDONLY | O_NONBLOCK | O_NOCTTY, st);
  if (fd < 0) {
    reply_errno(reply, fd, path.path, "The path cannot be opened.");
    return nullptr;
  }
  if (S_ISREG(st.st_mode)) {
    if (path.path.back() == '/') {  // "/file.txt/": not a directory
      ::close(fd);
      reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
      return nullptr;
    }
    serve_regular(ctx, req, path.path, open_source(ctx, path.path, path.path, fd, st), st, reply);
    return nullptr;
  }
  if (!S_ISDIR(st.st_mode)) {
    ::close(fd);
    reply_error(reply, http::status::kForbidden, "Only files and directories are served.");
    return nullptr;
  }
  ::close(fd);
  if (path.path.back() != '/') {
    // RFC 9110 15.4.2: the directory's URL ends in '/', so relative links in it resolve.
    std::string location = http::percent_encode_path(path.path) + "/";
    if (!path.query.empty()) location += "?" + std::string(path.query);
    reply_error(reply, http::status::kMovedPermanently, "This directory lives at its slash form.",
                "Location", location);
    return nullptr;
  }
  if (const ArchiveFormat f = archive_format(path.query); f != ArchiveFormat::None) {
    if (f == ArchiveFormat::Unknown) {
      reply_error(reply, http::status::kBadRequest, "download must be zip or tar.");
      return nullptr;
    }
    if (!ctx.options.listing) {
      reply_error(reply, http::status::kForbidden, "Directory listings are turned off.");
      return nullptr;
    }
    return archive_job(ctx.root, ctx.options, req, path, f);
  }
  const std::string index = path.path + "index.html";
  int ifd = ctx.root.open(index, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (ifd >= 0) {
    struct stat ist {};
    if (::fstat(ifd, &ist) == 0 && S_ISREG(ist.st_mode)) {
      serve_regular(ctx, req, index, open_source(ctx, path.path, index, ifd, ist), ist, reply);
      return nullptr;
    }
    ::close(ifd);
  }
  if (wants_ui_page(ctx.options, req, path.query))
    reply_ui_page(ctx.options, path.path, reply);
  else
    serve_listing(ctx, req, path, reply);
  return nullptr;
}

}  // namespace

Handling FileHandler::handle(const Request& request, Reply& reply) {
  Handling h;
  h.job = serve_get(FileContext{root_, options_, cache_, request.now}, request.head, request.path,
                    reply);
  return h;
}

}  // namespace httpfs::server
