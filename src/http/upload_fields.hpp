// The request fields of resumable uploads (draft-ietf-httpbis-resumable-upload, interop
// versions 6 and 8): Upload-Draft-Interop-Version, Upload-Complete, Upload-Offset and
// Upload-Length, each an RFC 8941 Item; and the Upload-Limit dictionary the server sends.
//
// A field sent twice (two lines, or one line with a comma) is not an Item: it counts as
// malformed, like a value of the wrong type. What a malformed field means is the caller's
// to decide (the drafts say "ignore it"; a required one missing is then a 400).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "http/fields.hpp"

namespace httpfs::http {

struct UploadFields {
  std::optional<std::int64_t> interop;  // Upload-Draft-Interop-Version
  std::optional<bool> complete;         // Upload-Complete
  std::optional<std::uint64_t> offset;  // Upload-Offset (non-negative)
  std::optional<std::uint64_t> length;  // Upload-Length (non-negative)
  bool malformed_interop = false;
  bool malformed_complete = false;
  bool malformed_offset = false;
  bool malformed_length = false;

  // Whether any of the four came, valid or not.
  bool any() const noexcept {
    return interop || complete || offset || length || malformed_interop || malformed_complete ||
           malformed_offset || malformed_length;
  }
};

UploadFields parse_upload_fields(std::span<const Header> headers) noexcept;

// The limits a server announces (Upload-Limit, a Dictionary of Integers). Interop 6 calls
// the remaining lifetime "expires", interop 8 "max-age".
struct UploadLimits {
  std::optional<std::uint64_t> max_size;
  std::uint64_t min_size = 0;
  std::optional<std::uint64_t> max_append_size;
  std::optional<std::uint64_t> lifetime_s;
};
std::string upload_limit_field(const UploadLimits& limits, std::int64_t interop);

}  // namespace httpfs::http
