// COPY and MOVE (RFC 4918 9.8, 9.9), to the Destination header's path on this server.
//
// Checked on the loop before anything changes: the Destination (an absolute URL of this
// host, or an absolute path; another host is 502), through the same confinement as any
// request path (no "..", no encoded "/", no hidden or state path); the source exists; not
// onto itself (403) nor a collection into itself (403); the destination's parent exists
// (409); Overwrite: F with something there (412); locks and the If header (423, 412). Depth:
// COPY 0 or infinity, MOVE infinity only (400 otherwise).
//
// Then the work runs on the worker pool (a large file or tree must not stall the loop):
//   MOVE   one rename(2) within the file system (atomic; dead properties travel with it);
//          across file systems a copy, then the source is removed
//   COPY   a file: a temporary file in the destination directory, renamed into place, as an
//          upload is; a collection: member by member, failures reported in a 207
// An existing destination (Overwrite: T) is removed first. Answers: 201 (new), 204
// (replaced), 207 (some members failed).
#pragma once

#include <optional>

#include "http/target.hpp"
#include "server/dav.hpp"

namespace httpfs::server {

class CopyMoveHandler final : public DavHandler {
 public:
  CopyMoveHandler(const DavContext& dav, bool move) : DavHandler(dav), move_(move) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  bool move_;
};

// The Destination header of `request` as a normalised path on this server, or the refusal:
// 400 when missing or malformed, 502 for another host.
std::optional<Refusal> parse_destination(const Request& request, http::RequestPath& out);

}  // namespace httpfs::server
