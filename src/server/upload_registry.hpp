// One writer per resumable upload, within this server: the request appending to an upload
// is registered here, and a newer request for the same upload (a PATCH, HEAD or DELETE from
// a client that reconnected after a silent network loss) ends it first, as the resumable
// upload drafts recommend ("Concurrency"): the older request is taken to have failed, and
// the client is not blocked by its own dead connection until a timeout.
//
// Lifetime: a Holder registers itself for the time of its request and must release() (or
// be interrupted) before it is destroyed. Loop-thread only.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace httpfs::server {

class UploadRegistry {
 public:
  class Holder {
   public:
    // Ends the request at once (closes its connection). The registry has already forgotten
    // the holder when this is called.
    virtual void interrupt() = 0;

   protected:
    ~Holder() = default;
  };

  // Makes `h` the writer of upload `id`, interrupting the one before it, if any.
  void claim(std::string_view id, Holder& h);
  // `h` is done with `id`; nothing when another request has claimed it since.
  void release(std::string_view id, const Holder& h) noexcept;
  // Interrupts the writer of `id`, if any, without becoming one (HEAD, DELETE).
  void interrupt(std::string_view id);
  std::size_t size() const noexcept { return writers_.size(); }

 private:
  std::map<std::string, Holder*, std::less<>> writers_;
};

}  // namespace httpfs::server
