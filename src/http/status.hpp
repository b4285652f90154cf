// HTTP status codes and their reason phrases (RFC 9110 section 15, RFC 6585, RFC 4918).
#pragma once

#include <string_view>

namespace httpfs::http {

// Status codes are plain ints on the wire and in logs; these names keep call sites readable.
namespace status {
inline constexpr int kContinue = 100;
inline constexpr int kUploadResumptionSupported = 104;
inline constexpr int kOk = 200;
inline constexpr int kCreated = 201;
inline constexpr int kNoContent = 204;
inline constexpr int kMultiStatus = 207;  // RFC 4918 11.1
inline constexpr int kPartialContent = 206;
inline constexpr int kMovedPermanently = 301;
inline constexpr int kFound = 302;
inline constexpr int kSeeOther = 303;
inline constexpr int kNotModified = 304;
inline constexpr int kTemporaryRedirect = 307;
inline constexpr int kPermanentRedirect = 308;
inline constexpr int kBadRequest = 400;
inline constexpr int kUnauthorized = 401;
inline constexpr int kForbidden = 403;
inline constexpr int kNotFound = 404;
inline constexpr int kMethodNotAllowed = 405;
inline constexpr int kRequestTimeout = 408;
inline constexpr int kConflict = 409;
inline constexpr int kGone = 410;
inline constexpr int kLengthRequired = 411;
inline constexpr int kPreconditionFailed = 412;
inline constexpr int kContentTooLarge = 413;
inline constexpr int kUriTooLong = 414;
inline constexpr int kUnsupportedMediaType = 415;
inline constexpr int kRangeNotSatisfiable = 416;
inline constexpr int kExpectationFailed = 417;
inline constexpr int kLocked = 423;            // RFC 4918 11.3
inline constexpr int kFailedDependency = 424;  // RFC 4918 11.4
inline constexpr int kTooManyRequests = 429;   // RFC 6585 4
inline constexpr int kHeaderFieldsTooLarge = 431;
inline constexpr int kInternalServerError = 500;
inline constexpr int kNotImplemented = 501;
inline constexpr int kBadGateway = 502;
inline constexpr int kServiceUnavailable = 503;
inline constexpr int kVersionNotSupported = 505;
inline constexpr int kInsufficientStorage = 507;
}  // namespace status

// The reason phrase of a status code; "Unknown" for codes this table does not know.
std::string_view reason_phrase(int status) noexcept;

// RFC 9110 6.4.1 / RFC 9112 6.3: responses that never carry content.
constexpr bool status_has_no_body(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace httpfs::http
