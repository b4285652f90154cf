// The upload resource of a resumable upload (draft-ietf-httpbis-resumable-upload), at
// /.httpfs-upload/<id> (server/resumable.hpp):
//
//   HEAD      its state: Upload-Offset, Upload-Complete, Upload-Length, Upload-Limit, with
//             Cache-Control: no-store (204)
//   PATCH     appends (Upload::append); the last byte commits the file
//   DELETE    cancels: the record and the data go (204)
//   OPTIONS   what it accepts
//
// A HEAD, PATCH or DELETE first ends a request still appending to the same upload in this
// process (UploadRegistry): a client that reconnects is not blocked by its own dead
// connection. An upload made by an authenticated user is that user's: to anybody else it
// does not exist (404), like an id that was never made.
#pragma once

#include "server/dav.hpp"
#include "server/resumable.hpp"

namespace httpfs::server {

class UploadResourceHandler final : public DavHandler {
 public:
  UploadResourceHandler(const DavContext& dav, const UploadContext& uploads)
      : DavHandler(dav), uploads_(uploads) {}
  Handling handle(const Request& request, Reply& reply) override;

  static constexpr std::string_view kAllow = "HEAD, PATCH, DELETE, OPTIONS";

 private:
  // The upload `id` names, when it exists and is the requester's; else answers 404 (or the
  // error) and returns false.
  bool find(std::string_view id, const Request& request, Reply& reply, io::Upload& out);
  void head(std::string_view id, const Request& request, Reply& reply);
  void cancel(std::string_view id, const Request& request, Reply& reply);

  const UploadContext& uploads_;
};

}  // namespace httpfs::server
