#include "server/file_handler.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <vector>

#include "http/conditional.hpp"
#include "http/date.hpp"
#include "http/mime.hpp"
#include "http/negotiate.hpp"
#include "http/percent.hpp"
#include "http/range.hpp"
#include "http/status.hpp"
#include "io/dir_listing.hpp"
#include "io/file_cache.hpp"
#include "io/file_etag.hpp"
#include "server/archive.hpp"
#include "server/errno_status.hpp"

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

void reply_errno(Reply& reply, int err, std::string_view what) {
  int status = status_from_errno(err);
  std::string detail(what);
  if (status == 404)
    detail = "There is nothing at this path.";
  else if (status == 403)
    detail = "Access to this path is not allowed.";
  else if (status == 503)
    detail = "The server is out of resources; try again shortly.";
  reply_error(reply, status, detail);
}

void serve_file(const FileContext& ctx, const http::RequestHead& req, std::string_view path,
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
  const http::Validators v{true, etag, st.st_mtim.tv_sec};
  const std::string_view type = http::mime_type_for(path);

  switch (http::evaluate_preconditions(req, v)) {
    case http::Precondition::NotModified:
      reply.begin(http::status::kNotModified);
      reply.header("ETag", etag);
      reply.header("Last-Modified", lm);
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
    reply.header("Accept-Ranges", "bytes");
  };

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

// Serves an open regular file through the cache when it fits, else from the descriptor.
// Closes fd.
void serve_open_file(const FileContext& ctx, const http::RequestHead& req, std::string_view key,
                     std::string_view file, int fd, const struct stat& st, Reply& reply) {
  Source src;
  if (ctx.cache != nullptr && ctx.cache->cacheable_size(static_cast<std::uint64_t>(st.st_size)))
    src.entry = ctx.cache->insert(key, file, fd, st, ctx.now);
  if (src.entry) {
    ::close(fd);
  } else {
    src.fd = fd;
  }
  serve_file(ctx, req, file, src, st, reply);
  if (src.fd >= 0 && !src.taken) ::close(src.fd);
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
    reply_errno(reply, r, "The directory cannot be read.");
    return;
  }
  io::sort_entries(entries, key, desc);
  std::string body = io::render_listing(format, path.path, entries, key, desc);
  static constexpr std::array<std::string_view, 3> kContentTypes = {
      "text/html; charset=utf-8", "application/json", "text/plain; charset=utf-8"};
  reply.begin(http::status::kOk);
  reply.header("Content-Type", kContentTypes[static_cast<std::size_t>(format)]);
  reply.header("Vary", "Accept");
  reply.header("Cache-Control", "no-cache");
  reply.end_head(body.size());
  reply.body(body);
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
      Source src{-1, entry};
      serve_file(ctx, req, entry->file, src, entry->st, reply);
      return nullptr;
    }
  }
  // O_NONBLOCK: opening a FIFO someone left in the directory must not hang the loop.
  int fd = ctx.root.open(path.path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    reply_errno(reply, fd, "The path cannot be opened.");
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    reply_errno(reply, e, "The path cannot be read.");
    return nullptr;
  }
  if (S_ISREG(st.st_mode)) {
    if (path.path.back() == '/') {  // "/file.txt/": not a directory
      ::close(fd);
      reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
      return nullptr;
    }
    serve_open_file(ctx, req, path.path, path.path, fd, st, reply);
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
      serve_open_file(ctx, req, path.path, index, ifd, ist, reply);
      return nullptr;
    }
    ::close(ifd);
  }
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
