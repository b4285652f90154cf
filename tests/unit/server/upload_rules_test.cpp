#include "server/upload_rules.hpp"

#include <doctest/doctest.h>

#include <optional>

using namespace httpfs::server;
using httpfs::http::UploadFields;
using httpfs::io::Upload;

namespace {

using U64 = std::optional<std::uint64_t>;
constexpr std::nullopt_t kNone = std::nullopt;

UploadFields fields(std::optional<std::int64_t> interop, std::optional<bool> complete,
                    U64 offset = kNone, U64 length = kNone) {
  UploadFields f;
  f.interop = interop;
  f.complete = complete;
  f.offset = offset;
  f.length = length;
  return f;
}

}  // namespace

TEST_CASE("which revision a request speaks") {
  CHECK(interop_of(fields(6, kNone)) == Interop::V6);
  CHECK(interop_of(fields(8, kNone)) == Interop::V8);
  CHECK(interop_of(fields(7, kNone)) == Interop::None);
  CHECK(interop_of(fields(kNone, true)) == Interop::None);
  CHECK(interop_number(Interop::V6) == 6);
  CHECK(interop_number(Interop::V8) == 8);
  CHECK(interop_number(Interop::None) == 0);
}

TEST_CASE("creation: resumable only with a known revision and Upload-Complete; lengths agree") {
  struct Row {
    const char* what;
    UploadFields f;
    U64 content_length;
    bool resumable;
    int status;
    U64 length;
  };
  const Row rows[] = {
      {"plain PUT", fields(kNone, kNone), 10, false, 0, kNone},
      {"unknown revision", fields(5, true), 10, false, 0, kNone},
      {"no Upload-Complete", fields(8, kNone), 10, false, 0, kNone},
      {"whole body", fields(8, true), 10, true, 0, 10},
      {"whole body, chunked", fields(8, true), kNone, true, 0, kNone},
      {"first part", fields(8, false), 10, true, 0, kNone},
      {"first part, length told", fields(6, false, kNone, 100), 10, true, 0, 100},
      {"empty, careful creation", fields(8, false, kNone, 100), 0, true, 0, 100},
      {"length agrees", fields(8, true, kNone, 10), 10, true, 0, 10},
      {"length disagrees", fields(8, true, kNone, 11), 10, true, 400, kNone},
      {"an offset on creation", fields(6, false, 0), 10, true, 400, kNone},
  };
  for (const Row& r : rows) {
    CAPTURE(r.what);
    const Creation c = plan_creation(r.f, r.content_length);
    CHECK(c.resumable == r.resumable);
    CHECK(c.status == r.status);
    if (r.status == 0) CHECK(c.length == r.length);
  }
  UploadFields bad_complete = fields(8, kNone);
  bad_complete.malformed_complete = true;  // ignored: an ordinary upload
  CHECK_FALSE(plan_creation(bad_complete, 10).resumable);
  CHECK(plan_creation(fields(8, true, kNone, 11), 10).problem == kProblemLength);
}

TEST_CASE("appends: media type, required fields, offset, completion and lengths") {
  Upload at100;
  at100.offset = 100;
  Upload sized = at100;
  sized.length = 150;
  Upload done = sized;
  done.offset = 150;
  done.complete = true;
  struct Row {
    const char* what;
    const Upload* upload;
    UploadFields f;
    U64 content_length;
    bool partial;
    Interop interop;
    AppendVerdict verdict;
    U64 length;
  };
  using V = AppendVerdict;
  const Row rows[] = {
      {"next part", &at100, fields(8, false, 100), 50, true, Interop::V8, V::Append, kNone},
      {"last part", &at100, fields(8, true, 100), 50, true, Interop::V8, V::Append, 150},
      {"last part, chunked", &at100, fields(8, true, 100), kNone, true, Interop::V8, V::Append,
       kNone},
      {"empty completion", &at100, fields(8, true, 100), 0, true, Interop::V8, V::Append, 100},
      {"other media type", &at100, fields(8, false, 100), 50, false, Interop::V8, V::WrongMediaType,
       kNone},
      {"no offset", &at100, fields(8, false), 50, true, Interop::V8, V::MissingField, kNone},
      {"v8 needs Upload-Complete", &at100, fields(8, kNone, 100), 50, true, Interop::V8,
       V::MissingField, kNone},
      {"v6 does not", &at100, fields(6, kNone, 100), 50, true, Interop::V6, V::Append, kNone},
      {"behind", &at100, fields(8, false, 90), 50, true, Interop::V8, V::OffsetMismatch, kNone},
      {"ahead", &at100, fields(8, false, 101), 50, true, Interop::V8, V::OffsetMismatch, kNone},
      {"length told now", &at100, fields(8, false, 100, 500), 50, true, Interop::V8, V::Append,
       500},
      {"length as recorded", &sized, fields(8, false, 100, 150), 20, true, Interop::V8, V::Append,
       150},
      {"length changed", &sized, fields(8, false, 100, 151), 20, true, Interop::V8,
       V::InconsistentLength, kNone},
      {"completes short", &sized, fields(8, true, 100), 20, true, Interop::V8,
       V::InconsistentLength, kNone},
      {"overruns", &sized, fields(8, false, 100), 51, true, Interop::V8, V::InconsistentLength,
       kNone},
      {"completes exactly", &sized, fields(8, true, 100), 50, true, Interop::V8, V::Append, 150},
      {"already complete", &done, fields(8, true, 150), 0, true, Interop::V8, V::Completed, kNone},
  };
  for (const Row& r : rows) {
    CAPTURE(r.what);
    const Append a = judge_append(*r.upload, r.f, r.content_length, r.partial, r.interop);
    CHECK(a.verdict == r.verdict);
    if (r.verdict == V::Append) CHECK(a.length == r.length);
  }
  CHECK(completed_status(Interop::V6, 0) == 400);
  CHECK(completed_status(Interop::V8, 0) == 410);
  CHECK(completed_status(Interop::V8, 5) == 400);
}

TEST_CASE("problem details bodies") {
  CHECK(problem_json(kProblemOffset, "Offset mismatch", 100, 90) ==
        "{\"type\":\"https://iana.org/assignments/http-problem-types#mismatching-upload-offset\","
        "\"title\":\"Offset mismatch\",\"expected-offset\":100,\"provided-offset\":90}\n");
  CHECK(problem_json(kProblemCompleted, "say \"done\"") ==
        "{\"type\":\"https://iana.org/assignments/http-problem-types#completed-upload\","
        "\"title\":\"say \\\"done\\\"\"}\n");
}

TEST_CASE("interop_for: the request's known revision, else the upload's") {
  httpfs::io::Upload v6;
  v6.interop = 6;
  httpfs::io::Upload v8;
  v8.interop = 8;
  httpfs::http::UploadFields none, eight, six, other;
  eight.interop = 8;
  six.interop = 6;
  other.interop = 7;
  CHECK(interop_for(none, v6) == Interop::V6);
  CHECK(interop_for(none, v8) == Interop::V8);
  CHECK(interop_for(other, v6) == Interop::V6);
  CHECK(interop_for(eight, v6) == Interop::V8);
  CHECK(interop_for(six, v8) == Interop::V6);
}
