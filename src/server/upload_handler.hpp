// PUT and POST to a path (create or replace a file), and DELETE.
//
// Everything that can be decided before the body is read is decided in start_upload():
// read-only (403), path policy (405 for a directory path, 403 for hidden paths, 409 for a
// directory or a file in the way), preconditions (412), size (413), free space (507),
// a malformed Content-Digest (400). Only a request that passes gets "100 Continue" and a
// FileSink for its body.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http/request_parser.hpp"
#include "http/target.hpp"
#include "io/docroot.hpp"
#include "io/file_sink.hpp"
#include "server/options.hpp"
#include "server/reply.hpp"

namespace httpfs::server {

struct UploadContext {
  const io::Docroot& root;
  const ServerOptions& options;
};

// An accepted upload, or the answer that refuses it.
struct UploadStart {
  // Refusal: status != 0.
  int status = 0;
  std::string detail;
  std::string extra_name, extra_value;

  // Acceptance.
  std::unique_ptr<io::FileSink> sink;
  bool existed = false;                        // the answer will be 204 (replaced), not 201
  bool no_replace = false;                     // If-None-Match: *: commit only if still absent
  std::string if_match;                        // If-Match value, checked again at commit time
  std::optional<std::string> expected_sha256;  // from Content-Digest
  std::string path;                            // normalised target path (for logs, Location)
};

UploadStart start_upload(const UploadContext& ctx, const http::RequestHead& request,
                         const http::RequestPath& path);

// DELETE: 204, 404 when missing, 409 for a non-empty directory, 412 on a failed If-Match.
void answer_delete(const UploadContext& ctx, const http::RequestHead& request,
                   const http::RequestPath& path, Reply& reply);

// The methods served, for Allow headers.
std::string_view allowed_methods(const ServerOptions& options) noexcept;

}  // namespace httpfs::server
