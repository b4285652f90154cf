#include "server/options.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <string_view>

namespace httpfs::server {

namespace {

std::uint64_t parse_count(std::string_view opt, std::string_view v, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n > max)
    throw UsageError(std::string(opt) + ": expected a whole number up to " + std::to_string(max) +
                     ", got '" + std::string(v) + "'");
  return n;
}

// An origin as browsers send it (RFC 6454 6.2): scheme "://" host [":" port], nothing after.
std::string parse_origin(std::string_view opt, std::string_view v) {
  const std::size_t sep = v.find("://");
  const std::string_view scheme = v.substr(0, sep);
  const std::string_view rest = sep == std::string_view::npos ? "" : v.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || rest.empty() ||
      rest.find_first_of("/?#@ ") != std::string_view::npos)
    throw UsageError(std::string(opt) +
                     ": expected an origin such as https://app.example:8443, got '" +
                     std::string(v) + "'");
  return std::string(v);
}

bool parse_on_off(std::string_view opt, std::string_view v) {
  if (v == "on") return true;
  if (v == "off") return false;
  throw UsageError(std::string(opt) + ": expected on or off, got '" + std::string(v) + "'");
}

// Sizes accept a K, M or G suffix (binary).
std::uint64_t parse_size(std::string_view opt, std::string_view v) {
  std::uint64_t mult = 1;
  if (!v.empty()) {
    switch (v.back()) {
      case 'k':
      case 'K':
        mult = 1ull << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ull << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ull << 30;
        break;
      default:
        break;
    }
    if (mult != 1) v.remove_suffix(1);
  }
  // 2^50 bytes (1 PiB) at most, suffix included: the product may not wrap.
  constexpr std::uint64_t kMaxSize = 1ull << 50;
  const std::uint64_t n = parse_count(opt, v, kMaxSize / mult);
  return n * mult;
}

// An HTTP/2 flow-control window: 1 byte to 2^31 - 1 (RFC 9113 6.9.1).
std::uint32_t parse_window(std::string_view opt, std::string_view v) {
  const std::uint64_t n = parse_size(opt, v);
  if (n == 0 || n > 0x7fffffff)
    throw UsageError(std::string(opt) + ": expected 1 to 2147483647 bytes, got '" + std::string(v) +
                     "'");
  return static_cast<std::uint32_t>(n);
}

// Seconds, possibly fractional ("0.5"), to milliseconds.
std::uint64_t parse_seconds(std::string_view opt, std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !(d > 0) || d > 86400 * 365)
    throw UsageError(std::string(opt) + ": expected a positive number of seconds, got '" +
                     std::string(v) + "'");
  return static_cast<std::uint64_t>(std::llround(d * 1000));
}

// A number of worker loops, or "auto": one per CPU this process may run on (its affinity
// mask, which taskset and cgroup cpusets narrow, not the machine's count).
std::size_t parse_workers(std::string_view opt, std::string_view v) {
  if (v == "auto") {
    cpu_set_t set;
    CPU_ZERO(&set);
    const int n = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    return static_cast<std::size_t>(std::clamp(n, 1, static_cast<int>(kMaxWorkers)));
  }
  const std::uint64_t n = parse_count(opt, v, kMaxWorkers);
  if (n == 0)
    throw UsageError(std::string(opt) + ": expected 1 to " + std::to_string(kMaxWorkers) +
                     " or auto");
  return static_cast<std::size_t>(n);
}

int parse_port(std::string_view opt, std::string_view v) {
  return static_cast<int>(parse_count(opt, v, 65535));
}

}  // namespace

std::string help_text() {
  ServerOptions d;
  auto secs = [](std::uint64_t ms) {
    std::string s = std::to_string(ms / 1000);
    if (ms % 1000) s += "." + std::to_string(ms % 1000 / 100);
    return s;
  };
  return std::string(
             "Usage: httpfs [PORT] [options]\n"
             "Serve a directory over HTTP/1.1 and HTTP/2.\n"
             "\n"
             "  -p, --port PORT           port to listen on; 0 picks a free one (default ") +
         std::to_string(d.port) + ")\n" +
         "  -b, --bind ADDR           address to bind, repeatable (default: all IPv6 and IPv4\n"
         "                            addresses, dual stack)\n"
         "  -d, --dir DIR             directory to serve (default: the current directory)\n"
         "  -v, --verbose             debug logging: one line per connection event\n"
         "      --workers N|auto      loop threads, each accepting on its own socket\n"
         "                            (SO_REUSEPORT); auto: one per usable CPU (default 1)\n"
         "      --shared-fs           the directory is shared with other hosts (a network or\n"
         "                            distributed file system): no inotify cache, named\n"
         "                            temporary files, cross-host-safe commits\n"
         "      --tls-cert FILE       serve HTTPS with this PEM certificate chain (leaf\n"
         "                            first); needs --tls-key\n"
         "      --tls-key FILE        the certificate's PEM private key\n"
         "      --access-log FILE     access log in Common Log Format: '-' for stdout, 'off'\n"
         "                            for none (default: -)\n"
         "      --show-hidden         list and serve dotfiles (default: hidden, except\n"
         "                            .well-known)\n"
         "      --no-listing          refuse directory listings with 403\n"
         "      --follow-symlinks     follow symlinks that lead outside the directory\n"
         "                            (default: refused; links inside are always followed)\n"
         "      --cache-size SIZE     memory for caching small files, 0 to disable (default " +
         std::to_string(d.cache_bytes >> 20) + "M)\n" +
         "      --cache-file-max SIZE largest file the cache holds (default " +
         std::to_string(d.cache_file_max >> 10) + "K)\n" +
         "\n"
         "HTTP/2 (h2 by ALPN over TLS; h2c by prior knowledge on plain connections):\n"
         "      --http2 on|off        speak HTTP/2 as well as HTTP/1.1 (default on)\n"
         "      --http2-max-streams N concurrent streams per connection; more are refused\n"
         "                            with REFUSED_STREAM (default " +
         std::to_string(d.http2_max_streams) + ")\n" +
         "      --http2-window SIZE   flow-control window of each stream: what a client may\n"
         "                            send ahead of the server reading it (default " +
         std::to_string(d.http2_window >> 10) + "K)\n" +
         "      --http2-conn-window SIZE  ... of a whole connection (default " +
         std::to_string(d.http2_conn_window >> 20) + "M)\n" +
         "                            --max-head and --max-headers bound a header list, as\n"
         "                            for HTTP/1.1\n"
         "\n"
         "Compression (when the request's Accept-Encoding allows it):\n"
         "      --compress on|off     zstd or gzip on the fly for listings and text, JSON,\n"
         "                            JS, CSS, SVG, XML and WASM files (default on)\n"
         "      --compress-level N    1 fastest .. 9 smallest (default " +
         std::to_string(d.compress_level) + ")\n" +
         "      --compress-min SIZE   smaller bodies are sent as they are (default " +
         std::to_string(d.compress_min) + ")\n" +
         "      --compress-max SIZE   larger files are sent as they are (default " +
         std::to_string(d.compress_max >> 20) + "M)\n" +
         "      --precompressed on|off  serve FILE.zst, FILE.br or FILE.gz for FILE when it is\n"
         "                            a regular file no older than FILE (default on)\n"
         "\n"
         "Browser page:\n"
         "      --ui on|off           the page for folders opened in a browser (default on;\n"
         "                            off: the plain listing)\n"
         "      --trust-content       serve files without 'Content-Security-Policy: sandbox'\n"
         "                            (default: an uploaded page runs in an origin of its own)\n"
         "      --cors ORIGIN         let pages of ORIGIN (scheme://host[:port]) read and\n"
         "                            write here with CORS (repeatable; default: writes from\n"
         "                            other sites are refused with 403)\n"
         "\n"
         "Writes (PUT and POST to a path create or replace a file; DELETE removes one):\n"
         "      --read-only           refuse writes with 403\n"
         "      --max-body SIZE       largest upload; 413 beyond (default " +
         std::to_string(d.max_body >> 30) + "G)\n" +
         "      --no-create-dirs      a missing parent directory is 409 (default: created)\n"
         "      --no-fsync            answer before the upload is flushed to disk (default:\n"
         "                            data and directory are fsync'ed first)\n"
         "      --auth USER:PASS      HTTP Basic credentials required for writes\n"
         "                            (repeatable)\n"
         "      --auth-file FILE      user:crypt-hash lines (openssl passwd -6), for writes\n"
         "      --auth-all            require the credentials for reads too\n"
         "\n"
         "WebDAV (PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK):\n"
         "      --max-xml-body SIZE   largest XML request body; 413 beyond (default " +
         std::to_string(d.max_xml_body >> 10) + "K)\n" +
         "      --max-lock-timeout S  longest lock granted; longer requests get this (default " +
         std::to_string(d.max_lock_timeout_s) + ")\n" +
         "      --lock-sweep S        time between removals of expired lock files (default " +
         std::to_string(d.lock_sweep_ms / 1000) + ")\n" +
         "\n"
         "Resumable uploads (a PUT or POST with Upload-Complete; PATCH appends):\n"
         "      --upload-expiry S     an unfinished upload is kept this long after its last\n"
         "                            request (default " +
         std::to_string(d.upload_expiry_s) + ")\n" +
         "      --max-uploads N       unfinished uploads kept in all; 503 beyond (default " +
         std::to_string(d.max_uploads) + ")\n" +
         "      --max-client-uploads N  ... made by one client (user, or address without\n"
         "                            credentials); 429 beyond (default " +
         std::to_string(d.max_client_uploads) + ")\n" +
         "      --max-upload-space SIZE  disk space unfinished uploads may hold; 507 beyond\n"
         "                            (default " +
         std::to_string(d.max_upload_space >> 30) + "G)\n" +
         "\n"
         "Limits:\n"
         "      --max-request-line N  bytes in the request line; 414 beyond (default " +
         std::to_string(d.max_request_line) + ")\n" +
         "      --max-field-line N    bytes in one header field line; 431 beyond (default " +
         std::to_string(d.max_field_line) + ")\n" +
         "      --max-head N          bytes in the whole request head; 431 beyond (default " +
         std::to_string(d.max_head) + ")\n" +
         "      --max-headers N       header fields per request; 431 beyond (default " +
         std::to_string(d.max_headers) + ")\n" +
         "      --max-ranges N        ranges per request; more and Range is ignored (default " +
         std::to_string(d.max_ranges) + ")\n" +
         "      --max-connections N   open connections; beyond, the oldest idle one is closed\n"
         "                            or new ones wait (default: file-descriptor limit - 64)\n"
         "      --max-pipelined N     responses queued per connection before it stops\n"
         "                            reading (default " +
         std::to_string(d.max_pipelined) + ")\n" +
         "      --no-defer-accept     accept connections before they send anything (default:\n"
         "                            TCP_DEFER_ACCEPT, the kernel holds silent connections)\n"
         "      --max-listing N       entries shown in one directory listing (default " +
         std::to_string(d.max_listing_entries) + ")\n" +
         "      --max-archive-entries N  files and folders in one ?download=zip|tar; 403\n"
         "                            beyond (default " +
         std::to_string(d.max_archive_entries) + ")\n" +
         "\n"
         "Timeouts (seconds):\n"
         "      --header-timeout S    to receive a whole request head (default " +
         secs(d.header_timeout_ms) + ")\n" +
         "      --keepalive-timeout S idle time between requests (default " +
         secs(d.keepalive_timeout_ms) + ")\n" +
         "      --body-timeout S      without progress while receiving a body (default " +
         secs(d.body_timeout_ms) + ")\n" +
         "      --min-body-rate B     bytes per second a body must average over each\n"
         "                            body-timeout window, 0 for no minimum (default " +
         std::to_string(d.min_body_rate) + ")\n" +
         "      --send-timeout S      without progress while sending (default " +
         secs(d.send_timeout_ms) + ")\n" +
         "      --linger-timeout S    reading leftovers after an error (default " +
         secs(d.linger_timeout_ms) + ")\n" +
         "      --shutdown-grace S    on SIGINT/SIGTERM, time left to in-flight responses\n"
         "                            (default " +
         secs(d.shutdown_grace_ms) + ")\n" +
         "\n"
         "  -h, --help                this text\n"
         "      --version             the version\n";
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  ServerOptions& o = cl.options;
  bool port_given = false;

  using Setter = std::function<void(std::string_view opt, std::string_view value)>;
  const std::map<std::string_view, Setter> with_value = {
      {"--port",
       [&](auto opt, auto v) {
         o.port = parse_port(opt, v);
         port_given = true;
       }},
      {"--bind", [&](auto, auto v) { o.binds.emplace_back(v); }},
      {"--dir", [&](auto, auto v) { o.dir = std::string(v); }},
      {"--auth",
       [&](auto, auto v) {
         if (v.find(':') == std::string_view::npos || v.front() == ':')
           throw UsageError("--auth: expected USER:PASSWORD");
         o.auth.emplace_back(v);
       }},
      {"--auth-file", [&](auto, auto v) { o.auth_file = std::string(v); }},
      {"--tls-cert", [&](auto, auto v) { o.tls_cert = std::string(v); }},
      {"--tls-key", [&](auto, auto v) { o.tls_key = std::string(v); }},
      {"--max-body", [&](auto opt, auto v) { o.max_body = parse_size(opt, v); }},
      {"--max-xml-body", [&](auto opt, auto v) { o.max_xml_body = parse_size(opt, v); }},
      {"--max-lock-timeout",
       [&](auto opt, auto v) { o.max_lock_timeout_s = parse_count(opt, v, 1ull << 31); }},
      {"--lock-sweep", [&](auto opt, auto v) { o.lock_sweep_ms = parse_seconds(opt, v); }},
      {"--upload-expiry",
       [&](auto opt, auto v) { o.upload_expiry_s = parse_count(opt, v, 86400ull * 365); }},
      {"--max-uploads", [&](auto opt, auto v) { o.max_uploads = parse_count(opt, v, 1000000); }},
      {"--max-client-uploads",
       [&](auto opt, auto v) { o.max_client_uploads = parse_count(opt, v, 1000000); }},
      {"--max-upload-space", [&](auto opt, auto v) { o.max_upload_space = parse_size(opt, v); }},
      {"--access-log", [&](auto, auto v) { o.access_log = std::string(v); }},
      {"--cache-size", [&](auto opt, auto v) { o.cache_bytes = parse_size(opt, v); }},
      {"--cache-file-max", [&](auto opt, auto v) { o.cache_file_max = parse_size(opt, v); }},
      {"--max-request-line",
       [&](auto opt, auto v) { o.max_request_line = parse_count(opt, v, 1 << 20); }},
      {"--max-field-line",
       [&](auto opt, auto v) { o.max_field_line = parse_count(opt, v, 1 << 20); }},
      {"--max-head", [&](auto opt, auto v) { o.max_head = parse_count(opt, v, 1 << 22); }},
      {"--max-headers", [&](auto opt, auto v) { o.max_headers = parse_count(opt, v, 10000); }},
      {"--max-ranges", [&](auto opt, auto v) { o.max_ranges = parse_count(opt, v, 10000); }},
      {"--workers", [&](auto opt, auto v) { o.workers = parse_workers(opt, v); }},
      {"--max-connections",
       [&](auto opt, auto v) { o.max_connections = parse_count(opt, v, 10000000); }},
      {"--max-pipelined", [&](auto opt, auto v) { o.max_pipelined = parse_count(opt, v, 100000); }},
      {"--max-listing",
       [&](auto opt, auto v) { o.max_listing_entries = parse_count(opt, v, 100000000); }},
      {"--max-archive-entries",
       [&](auto opt, auto v) { o.max_archive_entries = parse_count(opt, v, 100000000); }},
      {"--compress", [&](auto opt, auto v) { o.compress = parse_on_off(opt, v); }},
      {"--http2", [&](auto opt, auto v) { o.http2 = parse_on_off(opt, v); }},
      {"--http2-max-streams",
       [&](auto opt, auto v) {
         o.http2_max_streams = static_cast<std::uint32_t>(parse_count(opt, v, 100000));
       }},
      {"--http2-window", [&](auto opt, auto v) { o.http2_window = parse_window(opt, v); }},
      {"--http2-conn-window",
       [&](auto opt, auto v) { o.http2_conn_window = parse_window(opt, v); }},
      {"--compress-level",
       [&](auto opt, auto v) {
         o.compress_level = static_cast<int>(parse_count(opt, v, 9));
         if (o.compress_level < 1) throw UsageError(std::string(opt) + ": expected 1 to 9");
       }},
      {"--compress-min", [&](auto opt, auto v) { o.compress_min = parse_size(opt, v); }},
      {"--compress-max", [&](auto opt, auto v) { o.compress_max = parse_size(opt, v); }},
      {"--precompressed", [&](auto opt, auto v) { o.precompressed = parse_on_off(opt, v); }},
      {"--ui", [&](auto opt, auto v) { o.ui = parse_on_off(opt, v); }},
      {"--cors", [&](auto opt, auto v) { o.cors.push_back(parse_origin(opt, v)); }},
      {"--header-timeout", [&](auto opt, auto v) { o.header_timeout_ms = parse_seconds(opt, v); }},
      {"--keepalive-timeout",
       [&](auto opt, auto v) { o.keepalive_timeout_ms = parse_seconds(opt, v); }},
      {"--body-timeout", [&](auto opt, auto v) { o.body_timeout_ms = parse_seconds(opt, v); }},
      {"--send-timeout", [&](auto opt, auto v) { o.send_timeout_ms = parse_seconds(opt, v); }},
      {"--min-body-rate",
       [&](auto opt, auto v) { o.min_body_rate = parse_count(opt, v, 1ULL << 30); }},
      {"--linger-timeout", [&](auto opt, auto v) { o.linger_timeout_ms = parse_seconds(opt, v); }},
      {"--shutdown-grace", [&](auto opt, auto v) { o.shutdown_grace_ms = parse_seconds(opt, v); }},
  };
  const std::map<std::string_view, std::function<void()>> flags = {
      {"--verbose", [&] { o.verbose = true; }},
      {"--show-hidden", [&] { o.show_hidden = true; }},
      {"--no-listing", [&] { o.listing = false; }},
      {"--follow-symlinks", [&] { o.follow_symlinks = true; }},
      {"--force-path-walk", [&] { o.force_path_walk = true; }},
      {"--no-defer-accept", [&] { o.defer_accept = false; }},
      {"--read-only", [&] { o.read_only = true; }},
      {"--shared-fs", [&] { o.shared_fs = true; }},
      {"--no-create-dirs", [&] { o.create_dirs = false; }},
      {"--no-fsync", [&] { o.durable = false; }},
      {"--auth-all", [&] { o.auth_all = true; }},
      {"--trust-content", [&] { o.trust_content = true; }},
      {"--help", [&] { cl.action = CommandLine::Action::Help; }},
      {"--version", [&] { cl.action = CommandLine::Action::Version; }},
  };
  const std::map<char, std::string_view> short_names = {
      {'p', "--port"}, {'b', "--bind"}, {'d', "--dir"}, {'v', "--verbose"}, {'h', "--help"}};

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view name = arg, value;
    bool inline_value = false;
    if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      auto it = short_names.find(arg[1]);
      if (it == short_names.end()) throw UsageError("unknown option " + std::string(arg));
      name = it->second;
    } else if (arg.substr(0, 2) == "--") {
      if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        inline_value = true;
      }
    } else {
      // The one positional argument: the port (httpfs 5678).
      if (port_given) throw UsageError("unexpected argument '" + std::string(arg) + "'");
      o.port = parse_port("PORT", arg);
      port_given = true;
      continue;
    }
    if (auto f = flags.find(name); f != flags.end()) {
      if (inline_value) throw UsageError(std::string(name) + " takes no value");
      f->second();
      continue;
    }
    auto s = with_value.find(name);
    if (s == with_value.end()) throw UsageError("unknown option " + std::string(name));
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
      value = argv[++i];
    }
    s->second(name, value);
  }
  if (o.max_head < o.max_request_line)
    throw UsageError("--max-head must be at least --max-request-line");
  if (o.max_pipelined == 0) throw UsageError("--max-pipelined must be at least 1");
  if (o.http2_max_streams == 0) throw UsageError("--http2-max-streams must be at least 1");
  if (o.tls_cert.empty() != o.tls_key.empty())
    throw UsageError(o.tls_cert.empty() ? "--tls-key needs --tls-cert"
                                        : "--tls-cert needs --tls-key");
  if (o.auth_all && o.auth.empty() && o.auth_file.empty())
    throw UsageError("--auth-all needs --auth or --auth-file");
  return cl;
}

}  // namespace httpfs::server
