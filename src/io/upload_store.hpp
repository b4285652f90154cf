// Partial uploads that outlive a connection, a crash and a restart, and that every httpfs
// process serving the same tree sees: the on-disk half of resumable uploads.
//
// Each upload is two files in the state directory's `uploads/` (io/state_dir.hpp):
//   <id>       its record (io/record_file.hpp format, "httpfs-upload 1"): target, offset,
//              length, preconditions, owner, expiry
//   <id>.data  the bytes received so far, in order; never visible under the target's name
// and, once it is committed, only its record, renamed <id>.done, until it expires.
// where <id> is 32 lowercase hex digits, 128 random bits: the upload URL is a capability,
// and an id a client sends is checked against that form before it names any file.
//
// The record's offset is the promise: the bytes before it are in <id>.data and synced. The
// data file may hold more (written after the last sync, or by a crash mid-write); whoever
// appends truncates it to the offset first (open_data()).
//
// Changes run under the guard of `uploads/`; readers take no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "io/docroot.hpp"
#include "io/file_sink.hpp"
#include "io/state_dir.hpp"

namespace httpfs::io {

struct Upload {
  std::string id;                       // made by create()
  std::string target;                   // normalised request path it will be committed to
  int interop = 0;                      // the protocol revision the client speaks
  std::uint64_t offset = 0;             // bytes stored and synced
  std::optional<std::uint64_t> length;  // the whole representation's length, once known
  bool complete = false;                // the last byte has been received
  std::string if_match;                 // the creation request's If-Match ("" none)
  bool if_none_match_any = false;       // ... and If-None-Match: *
  std::string digest;                   // sha-256 of the whole (32 bytes) to check, or ""
  std::string principal;                // the authenticated user who made it ("" none)
  std::string client;                   // the address it was made from (per-client limits)
  std::time_t expires = 0;              // absolute, seconds since the epoch
};

class UploadStore {
 public:
  // The longest an upload may live from now: by default, whatever its record says.
  static constexpr std::time_t kAnyLifetime = std::numeric_limits<std::time_t>::max() / 2;

  // Attaches the store to the served tree; makes nothing until the first upload. An upload
  // whose record expires later than `lifetime_s` from now (written under a clock that was
  // ahead, or by a host whose clock is) is taken to expire then: find() says so, and
  // sweep() writes it down. 0, or -errno when the directory is there but cannot be opened.
  int open(const Docroot& root, std::time_t lifetime_s = kAnyLifetime);

  // Whether `id` has the form of an upload id (the only strings that may name a file here).
  static bool valid_id(std::string_view id) noexcept;

  // Makes `upload` (its id is made here): an empty data file and the record. 0, -E2BIG (a
  // record over 64 KiB: fields too long), -errno.
  int create(Upload& upload);
  // The unexpired upload `id`: 0, -ENOENT (none, expired, not an id, or another version's
  // record), -EUCLEAN (a record that is damaged: the sweep removes it), -EIO (its record
  // cannot be read now), -errno.
  int find(std::string_view id, std::time_t now, Upload& out) const;
  // Writes the record of an existing upload anew (offset, length, completeness, expiry):
  // 0, -ENOENT when it is gone (cancelled or swept meanwhile), -E2BIG, -errno.
  int update(const Upload& upload);
  // Opens the data file of `id` (O_RDWR for appending, O_RDONLY to read). For writing, it
  // takes the upload's writer lock (an OFD lock, held until the descriptor closes: -EBUSY
  // while another request, here or in another process, holds it) and truncates the file to
  // `offset`. The descriptor, or -errno: -ENOENT when the data file is gone (committed or
  // cancelled meanwhile), -EUCLEAN when it is damaged (fewer than `offset` bytes, not a
  // regular file of one link): the upload cannot go on.
  int open_data(std::string_view id, int flags, std::uint64_t offset) const;
  // Lets go of the writer lock of a descriptor from open_data() and closes it. (An explicit
  // unlock: on GlusterFS a lock released by close() alone still held against another mount
  // for some milliseconds, and the next writer there was refused.)
  static void close_data(int fd) noexcept;
  // Makes `sink` write to the data file of `id` (after its bytes) and commit it as `name` in
  // `dir_fd`, which the sink takes (FileSink::adopt). 0 or -errno; on failure the caller
  // still owns nothing but what the sink closes.
  int adopt_data(std::string_view id, int dir_fd, std::string name, FileSink& sink) const;
  // Records that `upload` (complete) was committed: its record becomes "<id>.done", which
  // find() still returns and usage() does not count, and its data file goes. 0 or -errno.
  int complete(const Upload& upload);
  // Removes the upload (finished or not) and its data: 0, or -ENOENT.
  int remove(std::string_view id);
  // Removes expired uploads, data files without a record and dead writers' temporaries.
  // Returns how many uploads went.
  std::size_t sweep(std::time_t now);

  struct Usage {
    std::size_t uploads = 0;         // unfinished (expired ones too, until a sweep)
    std::uint64_t bytes = 0;         // the disk space their data files take
    std::size_t client_uploads = 0;  // of those, made from `client`
  };
  // What the unfinished uploads hold, for the limits on their number and disk space
  // (completed ones count for nothing). With `enough` of them or more, only `uploads` is
  // filled in: nothing is read, so a server at its limit refuses cheaply.
  Usage usage(std::string_view client, std::size_t enough = SIZE_MAX) const;

 private:
  StateSubdir dir_{"uploads"};
  std::time_t lifetime_s_ = kAnyLifetime;
};

}  // namespace httpfs::io
