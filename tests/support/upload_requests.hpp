// Raw requests of the resumable-upload protocol (draft-ietf-httpbis-resumable-upload), as
// the integration and hardening suites send them: field lines are "Name: value" strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::test {

using Fields = std::vector<std::string>;

// "METHOD path HTTP/1.1" with Host and `fields`, the blank line, then `body` (whose length
// the caller states, or not, in `fields`).
inline std::string raw(std::string_view method, std::string_view path, const Fields& fields,
                       std::string_view body = {}) {
  std::string r = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: h\r\n";
  for (const std::string& f : fields) r += f + "\r\n";
  return r + "\r\n" + std::string(body);
}

// The same with Content-Length: the size of `body`.
inline std::string with_body(std::string_view method, std::string_view path, Fields fields,
                             std::string_view body) {
  fields.push_back("Content-Length: " + std::to_string(body.size()));
  return raw(method, path, fields, body);
}

inline Fields operator+(Fields a, const Fields& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline std::string sf_bool(bool b) {
  return b ? "?1" : "?0";
}

// The fields of a creation (PUT or POST with Upload-Complete) in interop version `v`.
inline Fields creating(bool complete, int v = 8) {
  return {"Upload-Draft-Interop-Version: " + std::to_string(v),
          "Upload-Complete: " + sf_bool(complete)};
}

// The fields of an append (PATCH) at `offset` in interop version `v`.
inline Fields appending(std::uint64_t offset, bool complete, int v = 8) {
  return {"Upload-Draft-Interop-Version: " + std::to_string(v),
          "Content-Type: application/partial-upload", "Upload-Offset: " + std::to_string(offset),
          "Upload-Complete: " + sf_bool(complete)};
}

inline const std::string kUserA = "Authorization: Basic YTph";  // a:a
inline const std::string kUserB = "Authorization: Basic Yjpi";  // b:b

}  // namespace httpfs::test
