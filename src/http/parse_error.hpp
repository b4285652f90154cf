// Every way a message can be malformed, and the one table that maps each to a status code.
//
// Parsers report a ParseError value; the server answers error_status(e) and logs
// error_message(e). No other place decides which status a syntax error gets.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpfs::http {

// X(name, status, message)
#define HTTPFS_PARSE_ERRORS(X)                                                           \
  X(None, 0, "no error")                                                                 \
  /* line structure (RFC 9112 2.2) */                                                    \
  X(BareLf, 400, "bare LF (line not terminated by CRLF)")                                \
  X(BareCr, 400, "bare CR (CR not followed by LF)")                                      \
  /* limits */                                                                           \
  X(RequestLineTooLong, 414, "request-line too long")                                    \
  X(FieldLineTooLong, 431, "header field line too long")                                 \
  X(HeadTooLarge, 431, "header section too large")                                       \
  X(TooManyFields, 431, "too many header fields")                                        \
  X(TooManyEmptyLines, 400, "too many empty lines before the request-line")              \
  /* request-line (RFC 9112 3) */                                                        \
  X(BadRequestLine, 400, "malformed request-line")                                       \
  X(BadMethod, 400, "method is not a token")                                             \
  X(BadTarget, 400, "invalid character in request-target")                               \
  X(BadPercentEncoding, 400, "invalid percent-encoding in request-target")               \
  X(EmptyTarget, 400, "empty request-target")                                            \
  X(BadTargetForm, 400, "request-target form not allowed for this method")               \
  X(BadAbsoluteTarget, 400, "invalid absolute-form request-target")                      \
  X(UserinfoInTarget, 400, "userinfo in absolute-form request-target")                   \
  X(BadVersion, 400, "malformed HTTP-version")                                           \
  X(MissingVersion, 400, "request-line without HTTP-version (HTTP/0.9)")                 \
  X(UnsupportedVersion, 505, "unsupported HTTP major version")                           \
  /* field lines (RFC 9112 5, RFC 9110 5) */                                             \
  X(WhitespaceBeforeFirstField, 400, "whitespace before the first header field line")    \
  X(ObsFold, 400, "obs-fold (line folding) in header section")                           \
  X(WhitespaceBeforeColon, 400, "whitespace between field name and colon")               \
  X(EmptyFieldName, 400, "empty field name")                                             \
  X(BadFieldName, 400, "invalid character in field name")                                \
  X(MissingColon, 400, "field line without colon")                                       \
  X(BadFieldValue, 400, "invalid character in field value")                              \
  /* framing (RFC 9112 6) */                                                             \
  X(BadContentLength, 400, "invalid Content-Length")                                     \
  X(MultipleContentLength, 400, "more than one Content-Length")                          \
  X(ContentLengthOverflow, 400, "Content-Length too large to represent")                 \
  X(TransferEncodingWithContentLength, 400, "both Transfer-Encoding and Content-Length") \
  X(TransferEncodingInHttp10, 400, "Transfer-Encoding in an HTTP/1.0 message")           \
  X(BadTransferEncoding, 400, "malformed Transfer-Encoding")                             \
  X(ChunkedNotFinal, 400, "chunked is not the final transfer coding")                    \
  X(ChunkedTwice, 400, "chunked applied more than once")                                 \
  X(UnknownTransferCoding, 501, "transfer coding not implemented")                       \
  /* Host (RFC 9112 3.2) */                                                              \
  X(MissingHost, 400, "HTTP/1.1 request without Host")                                   \
  X(MultipleHost, 400, "more than one Host field line")                                  \
  X(BadHost, 400, "invalid Host field value")                                            \
  /* chunked body (RFC 9112 7.1) */                                                      \
  X(BadChunkSize, 400, "missing or invalid chunk-size")                                  \
  X(ChunkSizeOverflow, 400, "chunk-size overflow")                                       \
  X(BadChunkExtension, 400, "malformed chunk extension")                                 \
  X(ChunkExtensionTooLong, 400, "chunk extensions too long")                             \
  X(ChunkOverhead, 400, "chunk framing out of proportion to the data")                   \
  X(BadChunkDataEnd, 400, "chunk-data not followed by CRLF")                             \
  X(BadTrailer, 400, "malformed trailer field")                                          \
  X(TrailerTooLarge, 431, "trailer section too large")                                   \
  /* responses (RFC 9112 4) */                                                           \
  X(BadStatusLine, 502, "malformed status-line")                                         \
  X(UnexpectedEof, 400, "connection closed before the message was complete")

enum class ParseError : std::uint8_t {
#define HTTPFS_X(name, status, message) name,
  HTTPFS_PARSE_ERRORS(HTTPFS_X)
#undef HTTPFS_X
};

// The status a server answers for this error (400, 414, 431, 501, 505). 0 for None.
int error_status(ParseError e) noexcept;
// A short, stable, human-readable description (for logs and error pages).
std::string_view error_message(ParseError e) noexcept;
// The enumerator's name, e.g. "ObsFold" (for tests and debug logs).
std::string_view error_name(ParseError e) noexcept;

}  // namespace httpfs::http
