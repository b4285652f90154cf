// The URL space and answer fields of resumable uploads (server/resumable.hpp).
#include "server/resumable.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <string>
#include <vector>

using namespace httpfs::server;

TEST_CASE("the upload URL space: its paths and the ids they name") {
  const std::string id = "0123456789abcdef0123456789abcdef";
  CHECK(upload_path(id) == "/.httpfs-upload/" + id);
  CHECK(is_upload_path("/.httpfs-upload/" + id));
  CHECK(is_upload_path("/.httpfs-upload/"));
  CHECK(is_upload_path("/.httpfs-upload"));
  CHECK_FALSE(is_upload_path("/.httpfs-uploads"));
  CHECK_FALSE(is_upload_path("/x/.httpfs-upload/" + id));
  CHECK(upload_id_of("/.httpfs-upload/" + id) == id);
  // Only ids of the right form name anything: never a path into the store.
  for (const std::string& bad : std::vector<std::string>{
           "/.httpfs-upload/", "/.httpfs-upload/" + id + "/x", "/.httpfs-upload/../locks",
           "/.httpfs-upload/0123456789ABCDEF0123456789ABCDEF", "/.httpfs-upload/" + id + ".data",
           "/.httpfs-upload/" + id.substr(1), "/other/" + id})
    CHECK_MESSAGE(upload_id_of(bad).empty(), bad);
}

TEST_CASE("application/partial-upload, with parameters and in any case") {
  CHECK(is_partial_upload_type("application/partial-upload"));
  CHECK(is_partial_upload_type("Application/Partial-Upload; charset=x"));
  CHECK(is_partial_upload_type(" application/partial-upload "));
  CHECK_FALSE(is_partial_upload_type("application/offset+octet-stream"));
  CHECK_FALSE(is_partial_upload_type("application/partial-uploads"));
  CHECK_FALSE(is_partial_upload_type(""));
}

TEST_CASE("Upload-Limit: the largest upload, and the lifetime in each revision's word") {
  ServerOptions o;
  o.max_body = 1000;
  CHECK(upload_limit(o, Interop::V8) == "max-size=1000, min-size=0");
  const std::time_t later = std::time(nullptr) + 100;
  const std::string v8 = upload_limit(o, Interop::V8, later);
  const std::string v6 = upload_limit(o, Interop::V6, later);
  CHECK(v8.starts_with("max-size=1000, min-size=0, max-age="));
  CHECK(v6.starts_with("max-size=1000, min-size=0, expires="));
  const long left = std::stol(v8.substr(v8.rfind('=') + 1));
  CHECK(left <= 100);
  CHECK(left >= 90);
  // An expiry in the past is no lifetime left, not a negative one.
  CHECK(upload_limit(o, Interop::V8, std::time_t{1}).ends_with("max-age=0"));
  // An upload touched now lives at least its lifetime, whatever part of this second is gone.
  const std::time_t before = std::time(nullptr);
  const std::time_t expires = expiry_after(5);
  const std::string limit = upload_limit(o, Interop::V8, expires);
  const std::time_t after = std::time(nullptr);
  CHECK(expires >= before + 6);
  CHECK(expires <= after + 6);
  if (before == after) CHECK(limit.ends_with("max-age=5"));  // (unless a second ticked)
}
