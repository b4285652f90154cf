#include "http/upload_fields.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace httpfs::http;

namespace {

UploadFields parse(std::vector<Header> headers) {
  return parse_upload_fields(headers);
}

}  // namespace

TEST_CASE("upload fields: valid items are read, whatever the case of the names") {
  const UploadFields f = parse({{"Upload-Draft-Interop-Version", "8"},
                                {"upload-complete", "?0"},
                                {"UPLOAD-OFFSET", "1024"},
                                {"Upload-Length", " 4096 "},
                                {"Content-Type", "application/partial-upload"}});
  CHECK(f.interop == 8);
  CHECK(f.complete == false);
  CHECK(f.offset == 1024u);
  CHECK(f.length == 4096u);
  CHECK(f.any());
  const bool any_malformed =
      f.malformed_interop || f.malformed_complete || f.malformed_offset || f.malformed_length;
  CHECK_FALSE(any_malformed);
  CHECK_FALSE(parse({{"Content-Length", "5"}}).any());
  CHECK(parse({{"Upload-Complete", "?1;x=1"}}).complete == true);
}

TEST_CASE("upload fields: wrong types, negatives and repeats are malformed, never read") {
  struct Row {
    std::vector<Header> headers;
    bool interop, complete, offset, length;
  };
  const Row rows[] = {
      {{{"Upload-Offset", "-1"}}, false, false, true, false},
      {{{"Upload-Offset", "1.5"}}, false, false, true, false},
      {{{"Upload-Offset", "1,2"}}, false, false, true, false},
      {{{"Upload-Offset", "1"}, {"Upload-Offset", "1"}}, false, false, true, false},
      {{{"Upload-Offset", ""}}, false, false, true, false},
      {{{"Upload-Length", "1000000000000000"}}, false, false, false, true},
      {{{"Upload-Length", "-0"}}, false, false, false, false},  // -0 is 0: fine
      {{{"Upload-Complete", "1"}}, false, true, false, false},
      {{{"Upload-Complete", "?1"}, {"Upload-Complete", "?1"}}, false, true, false, false},
      {{{"Upload-Complete", "true"}}, false, true, false, false},
      {{{"Upload-Draft-Interop-Version", "eight"}}, true, false, false, false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.headers.front().name);
    CAPTURE(r.headers.front().value);
    const UploadFields f = parse(r.headers);
    CHECK(f.malformed_interop == r.interop);
    CHECK(f.malformed_complete == r.complete);
    CHECK(f.malformed_offset == r.offset);
    CHECK(f.malformed_length == r.length);
    CHECK(f.any());
    if (r.offset) CHECK_FALSE(f.offset.has_value());
    if (r.complete) CHECK_FALSE(f.complete.has_value());
  }
}

TEST_CASE("Upload-Limit: min-size always, the lifetime named as the revision names it") {
  CHECK(upload_limit_field({}, 8) == "min-size=0");
  UploadLimits l;
  l.max_size = 8ull << 30;
  l.max_append_size = 1 << 20;
  l.lifetime_s = 86400;
  CHECK(upload_limit_field(l, 8) ==
        "max-size=8589934592, min-size=0, max-append-size=1048576, max-age=86400");
  CHECK(upload_limit_field(l, 6) ==
        "max-size=8589934592, min-size=0, max-append-size=1048576, expires=86400");
  // A limit an sf-integer cannot carry (16 digits) is left out, not written invalid.
  l.max_size = 1000000000000000;
  l.max_append_size = 999999999999999;
  CHECK(upload_limit_field(l, 8) == "min-size=0, max-append-size=999999999999999, max-age=86400");
}
