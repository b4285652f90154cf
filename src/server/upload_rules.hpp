// The decisions of resumable uploads (draft-ietf-httpbis-resumable-upload, interop
// versions 6 and 8) as pure functions of the request's fields and the upload's state, so
// that the handlers only carry them out. What the two revisions disagree on is decided
// here, in one place, and says which revision it follows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/upload_fields.hpp"
#include "io/upload_store.hpp"

namespace httpfs::server {

// The revisions spoken. Any other value, or none, is a client that does not speak one we
// know: its request is an ordinary one, and no 104 is sent (the drafts forbid a 104 to a
// request without a matching version).
enum class Interop : unsigned char { None, V6, V8 };
Interop interop_of(const http::UploadFields& f) noexcept;
int interop_number(Interop v) noexcept;  // 6, 8; 0 for None
// The revision to speak to a request about an existing upload: the request's own when it
// names one we know, else the one the upload was made with.
Interop interop_for(const http::UploadFields& f, const io::Upload& upload) noexcept;

// A PUT or POST with Upload-Complete (valid) from a client that speaks a known revision
// creates an upload resource. Upload-Length and, with Upload-Complete: ?1, Content-Length
// say the length; they must agree.
struct Creation {
  bool resumable = false;
  int status = 0;                       // 0, or the refusal: 400
  std::string_view problem;             // its problem type (kProblem...), or ""
  std::optional<std::uint64_t> length;  // known at creation
};
Creation plan_creation(const http::UploadFields& f,
                       std::optional<std::uint64_t> content_length) noexcept;

// An append (PATCH to the upload's URL).
enum class AppendVerdict : unsigned char {
  Append,              // go ahead: `length` is the length now known, if any
  WrongMediaType,      // 415: not application/partial-upload
  MissingField,        // 400: no valid Upload-Offset, or (interop 8) no Upload-Complete
  OffsetMismatch,      // 409: Upload-Offset is not the upload's offset
  Completed,           // the upload already has its last byte: see completed_status()
  InconsistentLength,  // 400: the lengths the requests gave disagree, or the body overruns
};
struct Append {
  AppendVerdict verdict = AppendVerdict::Append;
  bool completes = false;               // Upload-Complete: ?1
  std::optional<std::uint64_t> length;  // the whole length, when known after this request
};
Append judge_append(const io::Upload& upload, const http::UploadFields& f,
                    std::optional<std::uint64_t> content_length, bool partial_upload_type,
                    Interop interop) noexcept;
// The answer to an append to a completed upload: interop 6, 400 completed-upload;
// interop 8 (drafts -10 and -11), 400 inconsistent length when it carries content, else 410.
int completed_status(Interop interop, std::optional<std::uint64_t> content_length) noexcept;

// The problem types (RFC 9457) of the drafts.
inline constexpr std::string_view kProblemOffset =
    "https://iana.org/assignments/http-problem-types#mismatching-upload-offset";
inline constexpr std::string_view kProblemLength =
    "https://iana.org/assignments/http-problem-types#inconsistent-upload-length";
inline constexpr std::string_view kProblemCompleted =
    "https://iana.org/assignments/http-problem-types#completed-upload";
// An application/problem+json body; with `expected` and `provided` for an offset mismatch.
std::string problem_json(std::string_view type, std::string_view title,
                         std::optional<std::uint64_t> expected = std::nullopt,
                         std::optional<std::uint64_t> provided = std::nullopt);

}  // namespace httpfs::server
