#include "server/archive.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/archive_layout.hpp"
#include "http/conditional.hpp"
#include "http/date.hpp"
#include "http/range.hpp"
#include "http/status.hpp"
#include "http/tar_layout.hpp"
#include "http/zip_layout.hpp"
#include "io/archive_walk.hpp"
#include "io/crc_cache.hpp"
#include "io/record_file.hpp"
#include "io/sha256.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/reply.hpp"

namespace httpfs::server {

namespace {

using Crcs = std::vector<std::optional<std::uint32_t>>;

// The CRC-32 of a whole file, read a MiB at a time; nullopt when it cannot be read or its
// size is not `size` any more.
std::optional<std::uint32_t> file_crc(const io::Docroot& root, const std::string& path,
                                      std::uint64_t size) {
  const int fd = root.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != size) {
    ::close(fd);
    return std::nullopt;
  }
  if (auto known = io::CrcCache::shared().find(st)) {
    ::close(fd);
    return known;
  }
  std::string buf(1 << 20, '\0');
  std::uint32_t crc = 0;
  std::uint64_t at = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    crc = http::crc32_update(crc, std::string_view(buf.data(), static_cast<std::size_t>(n)));
    at += static_cast<std::uint64_t>(n);
  }
  struct stat after {};
  const bool same = ::fstat(fd, &after) == 0 && after.st_size == st.st_size &&
                    after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
                    after.st_mtim.tv_sec == st.st_mtim.tv_sec;
  ::close(fd);
  if (at != size || !same) return std::nullopt;
  io::CrcCache::shared().store(st, crc);
  return crc;
}

// The archive's bytes [first, first + length) as a response body, made piece by piece:
// headers, descriptors and the central directory in memory, file data as file ranges
// (sendfile) when nothing needs computing from it: always for tar; for ZIP when the file's
// CRC-32 is known (the job computed it, or io::CrcCache remembers it), else read here with
// its CRC computed as it passes.
class ArchiveSource final : public BodySource {
 public:
  ArchiveSource(std::shared_ptr<const http::ArchiveLayout> layout, const io::Docroot& root,
                std::string dir, std::uint64_t first, std::uint64_t length, Crcs crcs,
                bool needs_crc)
      : layout_(std::move(layout)),
        root_(root),
        dir_(std::move(dir)),
        pos_(first),
        end_(first + length),
        crcs_(std::move(crcs)),
        piece_(length > 0 ? layout_->piece_at(first) : 0),
        needs_crc_(needs_crc) {
    crcs_.resize(layout_->entries().size());  // unknown, unless the job computed them
  }
  ~ArchiveSource() override { close_file(); }

  bool next_piece(std::string& out, FileRange& file, std::size_t hint, int& error) override {
    if (const int r = check_sent_file(); r < 0) {
      error = -r;
      return false;
    }
    const std::size_t start = out.size();
    const std::size_t goal = start + std::max<std::size_t>(hint, 1);
    while (pos_ < end_ && out.size() < goal) {
      const http::ArchivePiece& p = layout_->pieces()[piece_];
      const std::uint64_t within = pos_ - p.offset;
      if (p.kind == http::ArchivePiece::Kind::FileData) {
        if (const int r = open_entry(p, within); r < 0) {
          error = -r;
          return false;
        }
        if (!needs_crc_ || crcs_[p.entry]) {
          if (out.size() > start) return true;  // these bytes first, the range next time
          const std::uint64_t n = std::min(p.length - within, end_ - pos_);
          file = FileRange{fd_, within, n};
          pos_ += n;
          if (pos_ == p.offset + p.length) {
            ++piece_;
            sent_whole_ = true;  // checked (and closed) when asked for more
          }
          return pos_ < end_;
        }
      }
      const std::uint64_t n =
          std::min({p.length - within, end_ - pos_, static_cast<std::uint64_t>(goal - out.size())});
      const int r = p.kind == http::ArchivePiece::Kind::Bytes ? bytes(p, within, n, out)
                                                              : data(p, within, n, out);
      if (r < 0) {
        error = -r;
        return false;
      }
      pos_ += n;
      if (pos_ == p.offset + p.length) ++piece_;
    }
    return pos_ < end_;
  }

  // For a driver that frames the body itself: file ranges read into `out`.
  bool next(std::string& out, std::size_t hint, int& error) override {
    FileRange f;
    const bool more = next_piece(out, f, hint, error);
    if (error != 0 || f.length == 0) return more;
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(f.length));
    std::size_t got = 0;
    while (got < f.length) {
      const ssize_t r =
          ::pread(f.fd, out.data() + at + got, static_cast<std::size_t>(f.length) - got,
                  static_cast<off_t>(f.offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        error = -changed(file_entry_);
        return false;
      }
      got += static_cast<std::size_t>(r);
    }
    return more;
  }

 private:
  // Opens the file of a data piece, once per entry; its size must still be the walk's.
  int open_entry(const http::ArchivePiece& p, std::uint64_t within) {
    if (file_entry_ == p.entry) return 0;
    close_file();
    const http::ArchiveEntry& e = layout_->entries()[p.entry];
    fd_ = root_.open(dir_ + e.name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0 || ::fstat(fd_, &st_) != 0 || static_cast<std::uint64_t>(st_.st_size) != e.size)
      return changed(p.entry);
    file_entry_ = p.entry;
    crc_from_start_ = within == 0;
    crc_ = 0;
    if (needs_crc_ && !crcs_[p.entry]) crcs_[p.entry] = io::CrcCache::shared().find(st_);
    return 0;
  }

  // True when the open file is still the version opened: a write since would make its
  // bytes disagree with the size in its header or the CRC in its descriptor.
  bool unchanged() const {
    struct stat now {};
    return ::fstat(fd_, &now) == 0 && now.st_size == st_.st_size &&
           now.st_mtim.tv_sec == st_.st_mtim.tv_sec && now.st_mtim.tv_nsec == st_.st_mtim.tv_nsec &&
           now.st_ctim.tv_sec == st_.st_ctim.tv_sec && now.st_ctim.tv_nsec == st_.st_ctim.tv_nsec;
  }

  // After the last range of a file went out: it must not have changed meanwhile.
  int check_sent_file() {
    if (!sent_whole_) return 0;
    sent_whole_ = false;
    if (!unchanged()) return changed(file_entry_);
    close_file();
    return 0;
  }

  int bytes(const http::ArchivePiece& p, std::uint64_t within, std::uint64_t n, std::string& out) {
    scratch_.clear();
    const auto crc = [&](std::size_t entry) -> std::uint32_t {
      if (!crcs_[entry]) {
        // Not seen whole yet (a range began after it): read it now. The job computes these
        // before the answer, so this is only a fallback.
        const http::ArchiveEntry& e = layout_->entries()[entry];
        crcs_[entry] = file_crc(root_, dir_ + e.name, e.size);
        if (!crcs_[entry]) failed_ = true;
      }
      return crcs_[entry].value_or(0);
    };
    layout_->append_bytes(piece_, crc, scratch_);
    if (failed_) return changed(p.entry);
    out.append(scratch_, static_cast<std::size_t>(within), static_cast<std::size_t>(n));
    return 0;
  }

  // File data read into `out`, its CRC-32 computed as it passes (when read from the start)
  // and remembered once the whole file is read unchanged.
  int data(const http::ArchivePiece& p, std::uint64_t within, std::uint64_t n, std::string& out) {
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>(n));
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, out.data() + at + got, static_cast<std::size_t>(n) - got,
                                static_cast<off_t>(within + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        out.resize(at);
        return changed(p.entry);  // shorter than it was
      }
      got += static_cast<std::size_t>(r);
    }
    if (crc_from_start_) crc_ = http::crc32_update(crc_, std::string_view(out.data() + at, got));
    if (within + n == p.length) {
      if (!unchanged()) return changed(p.entry);
      if (crc_from_start_ && !crcs_[p.entry]) {
        crcs_[p.entry] = crc_;
        io::CrcCache::shared().store(st_, crc_);
      }
      close_file();
    }
    return 0;
  }

  int changed(std::size_t entry) {
    const std::string name =
        entry < layout_->entries().size() ? layout_->entries()[entry].name : std::string("?");
    spdlog::warn("{}{}: changed while it was archived; the download is cut off", dir_, name);
    return -EIO;
  }

  void close_file() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    file_entry_ = SIZE_MAX;
  }

  std::shared_ptr<const http::ArchiveLayout> layout_;
  const io::Docroot& root_;
  std::string dir_;  // the directory's request path, ending in '/'
  std::uint64_t pos_, end_;
  Crcs crcs_;  // known CRC-32s, by entry
  std::size_t piece_;
  std::string scratch_;  // one Bytes piece (small: a header, a record, padding)
  int fd_ = -1;
  struct stat st_ {};  // of fd_, when opened
  std::size_t file_entry_ = SIZE_MAX;
  bool needs_crc_;           // ZIP: each file's CRC-32 goes in its descriptor
  bool sent_whole_ = false;  // the last range of fd_'s file went out as a file range
  bool crc_from_start_ = false;
  std::uint32_t crc_ = 0;
  bool failed_ = false;
};

// The name of the download: the directory's last segment, or the host's root "files".
std::string download_name(std::string_view dir, ArchiveFormat f) {
  std::string_view d = dir.substr(0, dir.size() - 1);  // without the trailing '/'
  std::string name(d.substr(d.rfind('/') + 1));
  if (name.empty()) name = "files";
  return name + (f == ArchiveFormat::Zip ? ".zip" : ".tar");
}

class ArchiveJob final : public Job {
 public:
  ArchiveJob(const io::Docroot& root, const ServerOptions& options, const http::RequestHead& req,
             std::string dir, ArchiveFormat format)
      : root_(root), options_(options), dir_(std::move(dir)), format_(format) {
    for (const http::Header& h : req.headers)
      fields_.emplace_back(std::string(h.name), std::string(h.value));
    method_ = req.method;
  }

  void run() override {
    std::vector<http::ArchiveEntry> entries;
    io::Sha256 fingerprint;
    result_ = io::walk_tree(root_, dir_, options_.show_hidden, options_.max_archive_entries,
                            entries, &fingerprint);
    if (result_ < 0) return;
    for (const http::ArchiveEntry& e : entries) newest_ = std::max(newest_, e.mtime);
    layout_ = format_ == ArchiveFormat::Zip ? http::make_zip_layout(std::move(entries))
                                            : http::make_tar_layout(std::move(entries));
    if (!layout_) {
      result_ = -ENAMETOOLONG;  // a name the format cannot hold
      return;
    }
    fingerprint.update(format_ == ArchiveFormat::Zip ? "zip" : "tar");
    const io::Sha256::Digest d = fingerprint.finish();
    etag_ = "\"" + io::lower_hex(d.data(), 16) + "\"";
    decide();
    if (decision_ == Decision::Range && format_ == ArchiveFormat::Zip) crcs_before(first_);
  }

  void answer(Reply& reply) override {
    if (result_ < 0) return refuse(reply);
    switch (decision_) {
      case Decision::NotModified:
        reply.begin(http::status::kNotModified);
        reply.header("ETag", etag_);
        reply.end_head(0);
        reply.finish();
        return;
      case Decision::Failed:
        return reply_error(reply, http::status::kPreconditionFailed,
                           "A precondition of the request does not hold.");
      case Decision::Unsatisfiable:
        return reply_error(reply, http::status::kRangeNotSatisfiable,
                           "The requested range is not within the archive.", "Content-Range",
                           "bytes */" + std::to_string(layout_->size()));
      case Decision::Whole:
      case Decision::Range:
        break;
    }
    const bool partial = decision_ == Decision::Range;
    reply.begin(partial ? http::status::kPartialContent : http::status::kOk);
    reply.header("Content-Type",
                 format_ == ArchiveFormat::Zip ? "application/zip" : "application/x-tar");
    reply.header("Content-Disposition", content_disposition(download_name(dir_, format_)));
    reply.header("ETag", etag_);
    char lm[http::kHttpDateLength];
    http::format_http_date(newest_, lm);
    reply.header("Last-Modified", std::string_view(lm, sizeof lm));
    reply.header("Accept-Ranges", "bytes");
    reply.header("Cache-Control", "no-cache");
    if (partial)
      reply.header("Content-Range", "bytes " + std::to_string(first_) + "-" +
                                        std::to_string(first_ + length_ - 1) + "/" +
                                        std::to_string(layout_->size()));
    reply.end_head(length_);
    if (length_ > 0)
      reply.body_source(std::make_unique<ArchiveSource>(
          layout_, root_, dir_, first_, length_, std::move(crcs_), format_ == ArchiveFormat::Zip));
    reply.finish();
  }

 private:
  enum class Decision : unsigned char { Whole, Range, NotModified, Failed, Unsatisfiable };

  // Preconditions and Range against what the walk found (RFC 9110 13.2.2, 14.2).
  void decide() {
    http::RequestHead head;
    head.method = method_;
    for (const auto& [name, value] : fields_) head.headers.push_back(http::Header{name, value});
    const http::Validators v{true, etag_, newest_};
    switch (http::evaluate_preconditions(head, v)) {
      case http::Precondition::NotModified:
        decision_ = Decision::NotModified;
        return;
      case http::Precondition::Failed:
        decision_ = Decision::Failed;
        return;
      case http::Precondition::Proceed:
        break;
    }
    first_ = 0;
    length_ = layout_->size();
    decision_ = Decision::Whole;
    const http::Header* range = head.find("range");
    if (method_ != http::Method::Get || range == nullptr) return;
    const http::Header* if_range = head.find("if-range");
    if (if_range != nullptr && !http::if_range_holds(if_range->value, v)) return;
    const http::RangeRequest r = http::parse_range(range->value, layout_->size(), 1);
    if (r.kind == http::RangeRequest::Kind::Unsatisfiable) decision_ = Decision::Unsatisfiable;
    // Several ranges of an archive: the whole of it (a resume asks for one).
    if (r.kind != http::RangeRequest::Kind::Satisfiable || r.ranges.size() != 1) return;
    decision_ = Decision::Range;
    first_ = r.ranges.front().first;
    length_ = r.ranges.front().length;
  }

  // The CRC-32s of the files whose data starts before `first`: a range that begins after
  // them never sees them whole, but its descriptors and central directory carry them.
  void crcs_before(std::uint64_t first) {
    crcs_.assign(layout_->entries().size(), std::nullopt);
    for (const http::ArchivePiece& p : layout_->pieces()) {
      if (p.offset >= first) break;
      if (p.kind != http::ArchivePiece::Kind::FileData) continue;
      const http::ArchiveEntry& e = layout_->entries()[p.entry];
      crcs_[p.entry] = file_crc(root_, dir_ + e.name, e.size);  // a failure: the source retries
    }
  }

  void refuse(Reply& reply) {
    if (result_ == -ENAMETOOLONG)
      return reply_error(reply, http::status::kForbidden,
                         "A name in this folder cannot be stored in this archive format.");
    if (result_ == -E2BIG)
      return reply_error(reply, http::status::kForbidden,
                         "This folder has more than " +
                             std::to_string(options_.max_archive_entries) +
                             " entries: too many to download as one archive.");
    if (status_from_errno(result_) >= 500)
      spdlog::warn("{}: cannot walk the folder to archive it: {}", dir_, net::errno_text(result_));
    reply_error(reply, status_from_errno(result_), "The folder cannot be read.");
  }

  const io::Docroot& root_;
  const ServerOptions& options_;
  std::string dir_;
  ArchiveFormat format_;
  http::Method method_ = http::Method::Get;
  std::vector<std::pair<std::string, std::string>> fields_;  // the request's, copied

  int result_ = 0;
  std::shared_ptr<const http::ArchiveLayout> layout_;
  std::string etag_;
  std::int64_t newest_ = 0;
  Decision decision_ = Decision::Whole;
  std::uint64_t first_ = 0, length_ = 0;
  Crcs crcs_;
};

bool attr_char(unsigned char c) {  // RFC 8187 3.2.1
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

ArchiveFormat archive_format(std::string_view query) {
  const std::optional<std::string> f = http::query_param(query, "download");
  if (!f) return ArchiveFormat::None;
  if (*f == "zip") return ArchiveFormat::Zip;
  if (*f == "tar") return ArchiveFormat::Tar;
  return ArchiveFormat::Unknown;
}

std::string content_disposition(std::string_view name) {
  std::string ascii, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    ascii += c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? ch : '_';
    if (attr_char(c)) {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

std::unique_ptr<Job> archive_job(const io::Docroot& root, const ServerOptions& options,
                                 const http::RequestHead& request, const http::RequestPath& path,
                                 ArchiveFormat format) {
  return std::make_unique<ArchiveJob>(root, options, request, path.path, format);
}

}  // namespace httpfs::server
