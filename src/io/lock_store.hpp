// WebDAV write locks (RFC 4918 6, 7), kept on disk in the state directory so that a restart
// keeps them until they time out and several httpfs processes serving one shared tree (on
// one host or many, over a network file system) see the same locks.
//
// Each lock is one file, `locks/<token uuid>`, written to a temporary name and renamed into
// place (readers never see half a lock). Changes that must not race with another process
// (creating a lock after checking for conflicts, refreshing, removing) run under an
// exclusive fcntl lock on `locks/.guard`, which network file systems with POSIX locks honour.
// Expired locks are ignored by every lookup and removed by sweep().
//
// Paths are normalised request paths ("/dir/file", collections without their trailing
// slash, "/" for the root); a depth-infinity lock on "/a" covers "/a" and everything below.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "io/docroot.hpp"
#include "io/state_dir.hpp"

namespace httpfs::io {

struct Lock {
  std::string token;            // "urn:uuid:..." (RFC 4918 6.5)
  std::string root;             // the locked resource's path
  bool exclusive = true;        // else shared
  bool infinite = false;        // Depth: infinity (else 0)
  std::string owner_xml;        // the lockinfo owner, as sent (self-contained XML), for discovery
  std::string principal;        // the authenticated user who took it ("" when none)
  std::uint64_t timeout_s = 0;  // as granted
  std::time_t expires = 0;      // absolute (seconds since the epoch)

  // Whether this lock applies to `path` (its root, or below it when infinite).
  bool covers(std::string_view path) const noexcept;
};

class LockStore {
 public:
  LockStore() = default;

  // Attaches the store to the served tree. The state directory is not made until the first
  // lock is (a tree that is never locked gets none); until then every lookup checks whether
  // another process has made it meanwhile (one fstatat). 0, or -errno when the state
  // directory is there but cannot be opened.
  int open(const Docroot& root);

  // Unexpired locks that cover `path`.
  std::vector<Lock> covering(std::string_view path, std::time_t now) const;
  // Unexpired locks whose root is `path` or lies below it (what a DELETE or MOVE of a
  // collection, or a depth-infinity LOCK, must also consider).
  std::vector<Lock> within(std::string_view path, std::time_t now) const;
  // One lock by token; false when there is none (or it expired).
  bool find(std::string_view token, std::time_t now, Lock& out) const;

  enum class Created : unsigned char { Ok, Conflict };
  // Creates `lock` (its token is made here) unless a lock it conflicts with exists: an
  // exclusive lock conflicts with any lock covering its root or, when infinite, any lock
  // within it; a shared lock conflicts with exclusive ones. Atomic against other processes.
  // -errno on failure.
  int create(Lock& lock, std::time_t now, Created& result);
  // Sets a new timeout on the lock `token`: 0, -ENOENT when there is none.
  int refresh(std::string_view token, std::uint64_t timeout_s, std::time_t now, Lock& out);
  // Removes the lock `token`: 0, or -ENOENT.
  int remove(std::string_view token);
  // Removes every lock whose root is `path` or lies below it: the resources are gone (DELETE,
  // or the source of a MOVE: locks do not move with their resource, RFC 4918 9.9.4).
  // Returns how many.
  std::size_t remove_within(std::string_view path, std::time_t now);
  // Removes expired lock files; returns how many.
  std::size_t sweep(std::time_t now);

 private:
  // The locks directory: opened on first use, made by create(). -errno when it cannot be
  // had.
  int dir(bool create) const;

  StateSubdir dir_{"locks"};
};

}  // namespace httpfs::io
