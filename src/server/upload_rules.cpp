#include "server/upload_rules.hpp"

#include "io/dir_listing.hpp"

namespace httpfs::server {

Interop interop_of(const http::UploadFields& f) noexcept {
  if (f.interop == 6) return Interop::V6;
  if (f.interop == 8) return Interop::V8;
  return Interop::None;
}

Interop interop_for(const http::UploadFields& f, const io::Upload& upload) noexcept {
  const Interop asked = interop_of(f);
  if (asked != Interop::None) return asked;
  return upload.interop == 6 ? Interop::V6 : Interop::V8;
}

int interop_number(Interop v) noexcept {
  return v == Interop::V6 ? 6 : v == Interop::V8 ? 8 : 0;
}

Creation plan_creation(const http::UploadFields& f,
                       std::optional<std::uint64_t> content_length) noexcept {
  Creation c;
  // A malformed Upload-Complete is ignored (interop 8, "State"): an ordinary request.
  if (interop_of(f) == Interop::None || !f.complete) return c;
  c.resumable = true;
  // The offset of a new upload is 0 by definition; saying otherwise is a client bug
  // (interop 6, "Upload Creation": the request MUST NOT include Upload-Offset).
  if (f.offset || f.malformed_offset) {
    c.status = 400;
    return c;
  }
  c.length = f.length;
  if (*f.complete && content_length) {
    if (c.length && *c.length != *content_length) {
      c.status = 400;
      c.problem = kProblemLength;
      return c;
    }
    c.length = content_length;
  }
  return c;
}

Append judge_append(const io::Upload& upload, const http::UploadFields& f,
                    std::optional<std::uint64_t> content_length, bool partial_upload_type,
                    Interop interop) noexcept {
  Append a;
  auto verdict = [&](AppendVerdict v) {
    a.verdict = v;
    return a;
  };
  if (!partial_upload_type) return verdict(AppendVerdict::WrongMediaType);
  // Interop 8 requires Upload-Complete on every append; interop 6 only when it is ?0, so
  // there its absence is read as "not the end", which never commits a file by surprise.
  if (!f.offset || (interop == Interop::V8 && !f.complete))
    return verdict(AppendVerdict::MissingField);
  a.completes = f.complete.value_or(false);
  if (upload.complete) return verdict(AppendVerdict::Completed);
  if (*f.offset != upload.offset) return verdict(AppendVerdict::OffsetMismatch);
  // Every statement of the length must agree with the others (interop 8, "State").
  a.length = upload.length;
  auto agree = [&](std::uint64_t n) {
    if (a.length && *a.length != n) return false;
    a.length = n;
    return true;
  };
  if (f.length && !agree(*f.length)) return verdict(AppendVerdict::InconsistentLength);
  if (a.completes && content_length && !agree(upload.offset + *content_length))
    return verdict(AppendVerdict::InconsistentLength);
  if (a.length && content_length && upload.offset + *content_length > *a.length)
    return verdict(AppendVerdict::InconsistentLength);
  return a;
}

int completed_status(Interop interop, std::optional<std::uint64_t> content_length) noexcept {
  if (interop == Interop::V8 && content_length == std::uint64_t{0}) return 410;
  return 400;
}

std::string problem_json(std::string_view type, std::string_view title,
                         std::optional<std::uint64_t> expected,
                         std::optional<std::uint64_t> provided) {
  std::string out = "{\"type\":";
  io::append_json_string(out, type);
  out += ",\"title\":";
  io::append_json_string(out, title);
  if (expected) out += ",\"expected-offset\":" + std::to_string(*expected);
  if (provided) out += ",\"provided-offset\":" + std::to_string(*provided);
  out += "}\n";
  return out;
}

}  // namespace httpfs::server
