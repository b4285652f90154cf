#include "server/upload_registry.hpp"

#include <doctest/doctest.h>

#include <string>

using httpfs::server::UploadRegistry;

namespace {

// A request that counts how often it was ended, and releases itself when it is, as a
// connection closing would.
class Request final : public UploadRegistry::Holder {
 public:
  Request(UploadRegistry& registry, std::string id) : registry_(registry), id_(std::move(id)) {}
  void interrupt() override {
    ++interrupted;
    registry_.release(id_, *this);  // a no-op: the registry forgot it already
  }
  int interrupted = 0;

 private:
  UploadRegistry& registry_;
  std::string id_;
};

}  // namespace

TEST_CASE("a newer request for an upload ends the older one; others are left alone") {
  UploadRegistry r;
  Request first(r, "a"), second(r, "a"), other(r, "b");
  r.claim("a", first);
  r.claim("b", other);
  CHECK(r.size() == 2);
  r.claim("a", second);  // the client reconnected
  CHECK(first.interrupted == 1);
  CHECK(second.interrupted == 0);
  CHECK(other.interrupted == 0);
  CHECK(r.size() == 2);
  // The older one's late release does not drop the newer one's claim.
  r.release("a", first);
  CHECK(r.size() == 2);
  // A HEAD ends the writer without becoming one.
  r.interrupt("a");
  CHECK(second.interrupted == 1);
  CHECK(r.size() == 1);
  r.interrupt("a");  // nobody there now
  CHECK(second.interrupted == 1);
  r.release("b", other);
  CHECK(r.size() == 0);
  r.release("b", other);  // twice is fine
  CHECK(other.interrupted == 0);
}

TEST_CASE("claiming twice is no interruption, and an interrupted writer cannot keep the upload") {
  UploadRegistry r;
  Request once(r, "a");
  r.claim("a", once);
  r.claim("a", once);
  CHECK(once.interrupted == 0);
  CHECK(r.size() == 1);

  // A writer that, being ended, claims again at once (a driver that retries) is ended again
  // until the newcomer holds the upload.
  class Stubborn final : public UploadRegistry::Holder {
   public:
    explicit Stubborn(UploadRegistry& registry) : registry_(registry) {}
    void interrupt() override {
      if (++interrupted < 3) registry_.claim("b", *this);
    }
    int interrupted = 0;

   private:
    UploadRegistry& registry_;
  };
  Stubborn stubborn(r);
  Request newcomer(r, "b");
  r.claim("b", stubborn);
  r.claim("b", newcomer);
  CHECK(stubborn.interrupted == 3);
  r.interrupt("b");
  CHECK(newcomer.interrupted == 1);  // it, not the stubborn one, held the upload
}
