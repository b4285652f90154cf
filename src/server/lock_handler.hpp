// LOCK and UNLOCK (RFC 4918 9.10, 9.11): exclusive and shared write locks, Depth 0 or
// infinity, kept on disk (io/lock_store.hpp).
//
//   LOCK with a lockinfo body   a new lock: 200, or 201 when the URL was unmapped (an empty
//                               file is made there, which davfs2 and Finder rely on); 423 when
//                               it conflicts with a lock held
//   LOCK without a body         a refresh of the lock named in the If header (RFC 4918 9.10.2)
//   UNLOCK with Lock-Token      204; 409 (lock-token-matches-request-uri) when that lock does
//                               not cover the URL; 403 for another principal's lock
//
// Timeout: the first acceptable value of the Timeout header ("Second-N", "Infinite"), at most
// --max-lock-timeout; the answer says what was granted.
#pragma once

#include "server/dav.hpp"

namespace httpfs::server {

class LockHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;

 private:
  Handling refresh(const Request& request, Reply& reply);
};

class UnlockHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

// The timeout a Timeout header asks for (RFC 4918 10.7), capped at `max_s`; `max_s` when
// absent or when nothing in it is understood.
std::uint64_t lock_timeout(std::string_view header, std::uint64_t max_s) noexcept;

}  // namespace httpfs::server
