// What the two halves of resumable uploads (draft-ietf-httpbis-resumable-upload) share:
// creation (a PUT or POST with Upload-Complete, server/upload.hpp) and the upload resource
// itself (HEAD, PATCH, DELETE at its URL, server/upload_resource.hpp).
//
//   the URL space      /.httpfs-upload/<id>: a path no file can have (hidden, and the Router
//                      sends it to the upload resource before any file handler sees it)
//   the answer fields  Upload-Offset, Upload-Complete, Upload-Length, Upload-Limit and the
//                      interop version, the same in every answer that describes an upload
//   persist()          the durability promise: what an answer reports as the offset has been
//                      written and synced (unless --no-fsync), and recorded on disk
//
// Lifetime: the UploadContext is the Server's and outlives every request.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "io/upload_store.hpp"
#include "server/options.hpp"
#include "server/reply.hpp"
#include "server/request.hpp"
#include "server/upload_registry.hpp"
#include "server/upload_rules.hpp"

namespace httpfs::server {

struct UploadContext {
  io::UploadStore& store;
  UploadRegistry& writers;  // the request appending to each upload, in this process
};

inline constexpr std::string_view kUploadPathPrefix = "/.httpfs-upload/";

// Whether a normalised request path lies in the upload resources' URL space.
bool is_upload_path(std::string_view path) noexcept;
// The path of upload `id`, and the id a path names ("" when it names none of the right form).
std::string upload_path(std::string_view id);
std::string_view upload_id_of(std::string_view path) noexcept;

// The upload `id`, when it exists and belongs to the requester (made without credentials,
// or by the same user): 0, -ENOENT (none, expired, or somebody else's), -EIO, -errno. A
// request still appending to it in this process is ended first (the drafts' concurrency
// rule), so that what it received is in the record returned.
int find_own_upload(const UploadContext& uploads, std::string_view id, const Request& request,
                    io::Upload& out);

// Whether a Content-Type field value is application/partial-upload (parameters ignored).
bool is_partial_upload_type(std::string_view content_type) noexcept;

// Who an upload belongs to for the per-client limit: the user when one authenticated, else
// the address it came from.
std::string upload_client(const Request& request);

// When an upload touched now expires, `lifetime_s` later: at least that long, whatever part
// of the current second has passed (expiry is kept in whole seconds).
std::time_t expiry_after(std::uint64_t lifetime_s);

// The Upload-Limit value for `interop`; with the upload's expiry, its remaining lifetime.
std::string upload_limit(const ServerOptions& options, Interop interop,
                         std::optional<std::time_t> expires = std::nullopt);

// The fields that describe `upload`'s state to a client speaking `interop`.
void add_upload_state(Reply& reply, const io::Upload& upload, Interop interop);

// A complete problem-details answer (RFC 9457) of the drafts' problem types.
void reply_problem(Reply& reply, int status, std::string_view type, std::string_view title,
                   std::optional<std::uint64_t> expected = std::nullopt,
                   std::optional<std::uint64_t> provided = std::nullopt);

// Blocking: syncs the data file `data_fd` (when `durable`), then records `offset` and a new
// expiry in `upload` and on disk. 0, or -errno (-ENOENT: the upload was cancelled meanwhile).
int persist(io::UploadStore& store, io::Upload& upload, int data_fd, std::uint64_t offset,
            bool durable, std::uint64_t expiry_s);

}  // namespace httpfs::server
