// Server configuration and its command line. Every limit is a named option with a default
// that `httpfs --help` prints.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace httpfs::server {

inline constexpr std::size_t kMaxWorkers = 256;

struct ServerOptions {
  // where
  std::string dir = ".";
  int port = 8080;                 // 0: any free port
  std::vector<std::string> binds;  // empty: dual-stack wildcard ("::", else "0.0.0.0")

  // scale
  std::size_t workers = 1;  // loop threads, each with its own SO_REUSEPORT listener
  bool shared_fs = false;   // the directory is shared with other hosts (server/workers.hpp)

  // HTTPS: both or neither
  std::string tls_cert;  // PEM certificate chain, leaf first
  std::string tls_key;   // PEM private key

  // HTTP/2 (RFC 9113): h2 by ALPN over TLS, h2c by prior knowledge on plain connections
  bool http2 = true;
  std::uint32_t http2_max_streams = 100;        // concurrent streams per connection
  std::uint32_t http2_window = 1u << 20;        // initial flow-control window of a stream
  std::uint32_t http2_conn_window = 16u << 20;  // ... of a connection (all its streams)

  // what is served
  bool show_hidden = false;      // list and serve dotfiles (".well-known" is always served)
  bool listing = true;           // directory listings (off: 403)
  bool follow_symlinks = false;  // follow symlinks that lead outside the directory
  std::uint64_t cache_bytes = 64ull << 20;     // in-memory cache of small files; 0: off
  std::uint64_t cache_file_max = 64ull << 10;  // largest file the cache holds
  std::size_t max_listing_entries = 100000;
  std::size_t max_archive_entries = 1000000;  // files and folders in one ?download= archive

  // compression (RFC 9110 8.4)
  bool compress = true;                      // zstd/gzip on the fly for compressible bodies
  int compress_level = 3;                    // 1 fastest .. 9 smallest
  std::uint64_t compress_min = 1024;         // smaller bodies are sent as they are
  std::uint64_t compress_max = 64ull << 20;  // larger files are sent as they are
  bool precompressed = true;                 // serve file.zst, file.br, file.gz siblings

  // the browser page
  bool ui = true;                 // the page for directories asked for by browsers
  bool trust_content = false;     // serve files without the sandbox policy (server/ui.hpp)
  std::vector<std::string> cors;  // origins allowed to write and read across sites (CORS)

  // writes
  bool read_only = false;               // refuse PUT, POST and DELETE with 403
  bool create_dirs = true;              // PUT creates missing parent directories
  bool durable = true;                  // fsync an upload and its directory before answering
  std::vector<std::string> auth;        // USER:PASSWORD, for writes
  std::string auth_file;                // user:crypt-hash lines, for writes
  bool auth_all = false;                // credentials for reads too
  std::uint64_t max_body = 8ull << 30;  // largest upload; 413 beyond

  // WebDAV
  std::uint64_t max_xml_body = 1 << 20;     // PROPFIND, PROPPATCH, LOCK bodies; 413 beyond
  std::uint64_t max_lock_timeout_s = 3600;  // longest lock granted (a longer ask is cut)
  std::uint64_t lock_sweep_ms = 60 * 1000;  // between removals of expired lock files

  // resumable uploads (draft-ietf-httpbis-resumable-upload)
  std::uint64_t upload_expiry_s = 24 * 3600;     // an idle partial upload is kept this long
  std::size_t max_uploads = 1000;                // partial uploads kept in all; 503 beyond
  std::size_t max_client_uploads = 100;          // ... made by one client; 429 beyond
  std::uint64_t max_upload_space = 64ull << 30;  // disk space they may hold; 507 beyond

  // limits
  std::size_t max_request_line = 8192;  // 414 beyond
  std::size_t max_field_line = 8192;    // 431 beyond
  std::size_t max_head = 32768;         // 431 beyond
  std::size_t max_headers = 100;        // 431 beyond
  std::size_t max_ranges = 16;          // more ranges in one request: the Range is ignored
  std::size_t max_connections = 0;      // 0: derived from the file-descriptor limit
  std::size_t max_pipelined = 16;       // responses queued per connection before reading stops
  bool defer_accept = true;             // TCP_DEFER_ACCEPT: accept once the first bytes arrived

  // timeouts, milliseconds
  std::uint64_t header_timeout_ms = 20000;     // whole request head, however it trickles in
  std::uint64_t keepalive_timeout_ms = 30000;  // idle between requests
  std::uint64_t body_timeout_ms = 30000;       // no progress while reading a body
  std::uint64_t min_body_rate = 1024;          // bytes/s over each body-timeout window; 0: off
  std::uint64_t send_timeout_ms = 30000;       // no progress while sending
  std::uint64_t linger_timeout_ms = 2000;      // reading leftovers after an error before closing
  std::uint64_t shutdown_grace_ms = 5000;      // SIGINT/SIGTERM: time for in-flight responses

  // logging
  std::string access_log = "-";  // "-": stdout, "off": none, else a file
  bool verbose = false;

  // test hooks
  bool force_path_walk = false;  // resolve paths in user space even where openat2 works
};

// Bad command line: the message says what is wrong; exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the command line asks for.
struct CommandLine {
  enum class Action { Serve, Help, Version } action = Action::Serve;
  ServerOptions options;
};

// Parses `httpfs [PORT] [options]`. Throws UsageError.
CommandLine parse_command_line(int argc, const char* const* argv);

// The --help text, with every option and its default.
std::string help_text();

}  // namespace httpfs::server
