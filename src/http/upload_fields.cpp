#include "http/upload_fields.hpp"

#include <string_view>

#include "http/chars.hpp"
#include "http/structured_field.hpp"

namespace httpfs::http {

namespace {

// The one value of field `lower_name`; nullopt when absent. `repeated` is set when it came
// on more than one line.
std::optional<std::string_view> only_value(std::span<const Header> headers,
                                           std::string_view lower_name, bool& repeated) {
  std::optional<std::string_view> value;
  repeated = false;
  for (const Header& h : headers) {
    if (!chars::iequals_lower(h.name, lower_name)) continue;
    if (value) repeated = true;
    value = h.value;
  }
  return value;
}

// Reads an integer field into `out` (when non-negative, if `non_negative`) or sets `bad`.
template <class T>
void read_integer(std::span<const Header> headers, std::string_view name, bool non_negative,
                  std::optional<T>& out, bool& bad) {
  bool repeated = false;
  const auto v = only_value(headers, name, repeated);
  if (!v) return;
  const auto n = repeated ? std::nullopt : parse_sf_integer(*v);
  if (!n || (non_negative && *n < 0)) {
    bad = true;
    return;
  }
  out = static_cast<T>(*n);
}

}  // namespace

UploadFields parse_upload_fields(std::span<const Header> headers) noexcept {
  UploadFields f;
  read_integer(headers, "upload-draft-interop-version", false, f.interop, f.malformed_interop);
  read_integer(headers, "upload-offset", true, f.offset, f.malformed_offset);
  read_integer(headers, "upload-length", true, f.length, f.malformed_length);
  bool repeated = false;
  if (const auto v = only_value(headers, "upload-complete", repeated)) {
    f.complete = repeated ? std::nullopt : parse_sf_boolean(*v);
    f.malformed_complete = !f.complete;
  }
  return f;
}

std::string upload_limit_field(const UploadLimits& limits, std::int64_t interop) {
  std::string out;
  auto add = [&](std::string_view key, std::uint64_t value) {
    // An sf-integer has at most 15 digits (RFC 8941 3.3.1); a limit beyond is no limit a
    // client can be told of, and writing it would void the whole field.
    if (value > static_cast<std::uint64_t>(kSfIntegerMax)) return;
    if (!out.empty()) out += ", ";
    out.append(key).append("=").append(std::to_string(value));
  };
  if (limits.max_size) add("max-size", *limits.max_size);
  add("min-size", limits.min_size);
  if (limits.max_append_size) add("max-append-size", *limits.max_append_size);
  if (limits.lifetime_s) add(interop == 6 ? "expires" : "max-age", *limits.lifetime_s);
  return out;
}

}  // namespace httpfs::http
