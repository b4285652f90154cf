// GET (and HEAD) /dir/?download=zip or ?download=tar: the directory tree as one archive,
// streamed (http/zip_layout.hpp, http/tar_layout.hpp).
//
//   the walk      on the worker pool, before the first byte (io/archive_walk.hpp): so the
//                 exact Content-Length is known, and a strong validator is made of what the
//                 walk saw (names, sizes, modification times)
//   ranges        one range (206) with If-Range, so an interrupted download resumes; the
//                 CRC-32s a ZIP range needs of files before it are computed on the pool too
//   the body      a BodySource made of the layout's pieces: headers made on demand, file
//                 bytes read a slice at a time (a ZIP's CRC-32 computed as they pass). A file
//                 whose size changed since the walk ends the response abnormally: never a
//                 well-formed archive with the wrong bytes in it.
//
// --no-listing refuses archives too (403); the walk keeps the listing rules.
#pragma once

#include <memory>
#include <string_view>

#include "http/request_parser.hpp"
#include "http/target.hpp"
#include "io/docroot.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

enum class ArchiveFormat : unsigned char { None, Zip, Tar, Unknown };

// The format `?download=` asks for (None without it, Unknown for another value).
ArchiveFormat archive_format(std::string_view query);

// The job that answers a request for the archive of the directory at `path.path` (ending in
// '/'). `root` and `options` outlive it (the Server's).
std::unique_ptr<Job> archive_job(const io::Docroot& root, const ServerOptions& options,
                                 const http::RequestHead& request, const http::RequestPath& path,
                                 ArchiveFormat format);

// Content-Disposition for a download named `name` (RFC 6266; filename* for non-ASCII,
// RFC 8187), e.g. attachment; filename="photos.zip"; filename*=UTF-8''photos.zip
std::string content_disposition(std::string_view name);

}  // namespace httpfs::server
