#include "client/session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>

#include "client/credentials.hpp"
#include "client/form_body.hpp"
#include "client/local_files.hpp"
#include "client/policy.hpp"
#include "http/chars.hpp"
#include "http/content_digest.hpp"
#include "http/date.hpp"
#include "http/percent.hpp"
#include "io/write_all.hpp"
#include "net/errors.hpp"

namespace httpfs::client {

namespace {

constexpr std::uint64_t kExpectThreshold = 1 << 20;  // uploads over 1 MiB ask first
constexpr std::uint64_t kReserveMinimum = 1 << 20;   // downloads this big reserve their room
constexpr std::size_t kMaxData = 64 << 20;           // -d, --data-urlencode and --json, in memory
constexpr std::size_t kMaxSmallInput = 1 << 20;      // a netrc file or -w @FILE: larger is refused

std::string digest_text(const std::unique_ptr<io::Sha256>& sha) {
  return sha ? sha->finish_text() : std::string();
}

// A head as it is printed (-i, -D, -I): the status line, the fields, an empty line.
std::string head_text(const std::string& status_line, const http::ResponseHead& h) {
  std::string out = status_line + "\r\n";
  for (const http::Header& f : h.headers)
    out.append(f.name).append(": ").append(f.value).append("\r\n");
  return out + "\r\n";
}

}  // namespace

// ---- setting up

int Session::start() {
  std::string err;
  auto url = http::parse_url(o_.url, &err);
  if (!url) {
    std::fprintf(stderr, "httpc: %s: %s\n", o_.url.c_str(), err.c_str());
    return kUsage;
  }
  spec_.url = *url;
  spec_.method = o_.method;
  spec_.headers = o_.headers;
  spec_.verbose = o_.verbose;
  spec_.connect_timeout = o_.connect_timeout;
  spec_.ip_family = o_.ip_family;
  spec_.limit_rate = o_.limit_rate;
  spec_.pool = shared_.pool;
  started_ns_ = uv_hrtime();
  if (int code = add_credentials(); code != 0) return code;
  if (int code = add_conditions(); code != 0) return code;
  first_url_ = spec_.url;
  load_cookies();
  if (int code = route(spec_.url); code != 0) return code;
  if (int code = prepare_body(); code != 0) return code;
  // A body read from a pipe goes over HTTP/1.1 (chunked): it is not offered HTTP/2.
  spec_.h2_prior_knowledge = o_.http2 == ClientOptions::Http2::PriorKnowledge &&
                             spec_.body != RequestSpec::Body::Stream && !spec_.proxy;
  if (url->scheme == "https") {
    if (std::string why = ensure_tls(); !why.empty()) {
      std::fprintf(stderr, "httpc: %s\n", why.c_str());
      return net::tls_available() ? kLocalFile : kUsage;
    }
  }
  spec_.tls = tls_;
  if (int code = prepare_output(); code != 0) return code;

  retries_left_ = o_.retries;
  uv_timer_init(loop_, &retry_timer_);
  uv_timer_init(loop_, &max_timer_);
  retry_timer_.data = max_timer_.data = this;
  timers_open_ = true;
  if (o_.max_time > 0)
    uv_timer_start(&max_timer_, &Session::on_max_timer,
                   static_cast<std::uint64_t>(o_.max_time * 1000), 0);
  progress_.start(loop_, shared_.progress && !o_.silent && ::isatty(2) == 1);
  if (o_.resume && file_ && resume_segments()) return -1;
  begin_transfer();
  return -1;  // running
}

int Session::add_credentials() {
  if ((!o_.user && !o_.netrc) || has_header(spec_.headers, "authorization")) return 0;
  std::string user, password;
  bool have_password = false;
  if (o_.user) {
    const std::size_t colon = o_.user->find(':');
    user = o_.user->substr(0, colon);
    if (colon != std::string::npos) {
      password = o_.user->substr(colon + 1);
      have_password = true;
    }
  }
  // curl's rule: the netrc file is read only when -u is not given.
  if (!o_.user && o_.netrc) {
    const char* home = std::getenv("HOME");
    const std::string path =
        !o_.netrc_file.empty() ? o_.netrc_file : std::string(home ? home : "") + "/.netrc";
    std::string text;
    if (const int err = read_small_file(path, kMaxSmallInput, text); err != 0) {
      // --netrc without the file is no error (curl's rule); a file named is.
      if (!o_.netrc_file.empty() || err != ENOENT) {
        std::fprintf(stderr, "httpc: cannot read %s: %s\n", path.c_str(), std::strerror(err));
        return kLocalFile;
      }
    } else if (std::optional<Login> found = netrc_lookup(text, spec_.url.host)) {
      user = std::move(found->user);
      password = std::move(found->password);
      have_password = true;
    }
  }
  if (!have_password) {
    if (!o_.user) return 0;  // --netrc, and no entry for this host
    std::optional<std::string> typed = ask_password("Enter host password for user '" + user + "':");
    if (!typed) {
      std::fprintf(stderr, "httpc: -u %s: no password given, and no terminal to ask for it\n",
                   user.c_str());
      return kUsage;
    }
    password = std::move(*typed);
  }
  spec_.headers.emplace_back("Authorization", basic_authorization(user, password));
  return 0;
}

int Session::add_conditions() {
  if (!o_.time_cond.empty()) {
    // -z: an HTTP date, else a file whose mtime is the date ('-' first: unmodified since).
    const bool unmodified = o_.time_cond.front() == '-';
    const std::string when = unmodified ? o_.time_cond.substr(1) : o_.time_cond;
    std::optional<std::int64_t> t = http::parse_http_date(when);
    struct stat st {};
    if (!t && ::stat(when.c_str(), &st) == 0) t = st.st_mtim.tv_sec;
    if (!t) {
      std::fprintf(stderr, "httpc: -z: '%s' is neither an HTTP date nor a file\n", when.c_str());
      return kUsage;
    }
    spec_.headers.emplace_back(unmodified ? "If-Unmodified-Since" : "If-Modified-Since",
                               http::format_http_date(*t));
  }
  if (!o_.etag_compare.empty()) {
    // --etag-compare: the ETag an earlier --etag-save kept; none there, no condition.
    std::string etag;
    const int err = read_small_file(o_.etag_compare, kMaxSmallInput, etag);
    if (err != 0 && err != ENOENT) {
      std::fprintf(stderr, "httpc: cannot read %s: %s\n", o_.etag_compare.c_str(),
                   std::strerror(err));
      return kLocalFile;
    }
    etag = std::string(http::chars::trim_ows(etag));
    while (!etag.empty() && (etag.back() == '\n' || etag.back() == '\r')) etag.pop_back();
    if (!etag.empty()) spec_.headers.emplace_back("If-None-Match", etag);
  }
  return 0;
}

int Session::route(const http::Url& url) {
  return proxy_for(o_, url, spec_.proxy);
}

int Session::proxy_for(const ClientOptions& o, const http::Url& url,
                       std::optional<RequestSpec::Proxy>& proxy) {
  proxy.reset();
  auto env = [](const char* name) -> const char* { return std::getenv(name); };
  const std::string text = o.proxy ? *o.proxy : proxy_from_environment(url.scheme, env);
  if (text.empty()) return 0;
  const char* no_proxy = env("no_proxy") ? env("no_proxy") : env("NO_PROXY");
  const std::string direct = o.noproxy ? *o.noproxy : no_proxy ? no_proxy : "";
  if (no_proxy_matches(direct, url.host, url.port)) return 0;
  std::string error;
  const std::optional<ProxySpec> p = parse_proxy(text, error);
  if (!p) {
    std::fprintf(stderr, "httpc: the proxy '%s': %s\n", text.c_str(), error.c_str());
    return kUsage;
  }
  proxy = RequestSpec::Proxy{p->host, p->port,
                             p->has_credentials ? basic_authorization(p->user, p->password) : ""};
  if (o.verbose) std::fprintf(stderr, "* Through the proxy %s port %u\n", p->host.c_str(), p->port);
  return 0;
}

void Session::load_cookies() {
  for (const std::string& b : o_.cookies) {
    if (b.find('=') == std::string::npos) continue;  // a file: the run's jar holds it
    if (!cookie_string_.empty()) cookie_string_ += "; ";
    cookie_string_ += b;
  }
}

std::string Session::cookie_field(const RequestSpec& spec) const {
  std::string field = same_origin(spec.url, first_url_) ? cookie_string_ : std::string();
  if (shared_.jar) {
    const std::string path = spec.url.target.substr(0, spec.url.target.find('?'));
    const std::string matched = shared_.jar->header_for(
        spec.url.host, path, spec.url.scheme == "https", std::time(nullptr));
    if (!matched.empty()) field += (field.empty() ? "" : "; ") + matched;
  }
  return field;
}

int Session::join_data(std::string& out, bool& json) {
  using Kind = ClientOptions::DataPart::Kind;
  // @FILE (or @- for stdin): its content, read now.
  auto read = [](const std::string& name, std::string& into) {
    const int err =
        name == "-" ? read_all(0, kMaxData, into) : read_small_file(name, kMaxData, into);
    if (err != 0)
      std::fprintf(stderr, "httpc: cannot read %s: %s\n",
                   name == "-" ? "the standard input" : name.c_str(),
                   err == EFBIG ? "larger than 64 MiB (send it with -T FILE)" : std::strerror(err));
    return err;
  };
  bool first = true;
  for (const ClientOptions::DataPart& part : o_.data) {
    std::string piece;
    const std::string& t = part.text;
    if (part.kind == Kind::UrlEncode) {
      // curl's forms: content, =content, name=content, @file, name@file.
      const std::size_t at = t.find_first_of("=@");
      const std::string name = at == std::string::npos ? "" : t.substr(0, at);
      std::string content = at == std::string::npos ? t : t.substr(at + 1);
      if (at != std::string::npos && t[at] == '@') {
        std::string file;
        if (read(content, file) != 0) return kLocalFile;
        content = std::move(file);
      }
      piece = (name.empty() ? "" : name + "=") + http::percent_encode_form(content);
    } else if (t.starts_with("@")) {
      if (read(t.substr(1), piece) != 0) return kLocalFile;
      // -d @FILE drops carriage returns and newlines, as curl's does (--json keeps them).
      if (part.kind == Kind::Raw)
        std::erase_if(piece, [](char c) { return c == '\r' || c == '\n'; });
    } else {
      piece = t;
    }
    json |= part.kind == Kind::Json;
    if (!first && part.kind != Kind::Json) out += '&';
    first = false;
    out += piece;
    if (out.size() > kMaxData) {
      std::fprintf(stderr, "httpc: the data is larger than 64 MiB (send it with -T FILE)\n");
      return kUsage;
    }
  }
  return 0;
}

int Session::prepare_form() {
  // A boundary of 24 random hex digits after curl's dashes: it appearing in a file is a
  // chance of 2^-96.
  std::random_device rd;
  char hex[25];
  for (int i = 0; i < 24; i += 8) std::snprintf(hex + i, 9, "%08x", static_cast<unsigned>(rd()));
  const std::string boundary = "------------------------" + std::string(hex, 24);
  spec_.body = RequestSpec::Body::Parts;
  for (const std::string& arg : o_.form) {
    std::string error;
    std::optional<FormField> f = parse_form_field(arg, error);
    if (!f) {
      std::fprintf(stderr, "httpc: -F %s: %s\n", arg.c_str(), error.c_str());
      return kUsage;
    }
    if (f->kind == FormField::Kind::FileText) {  // the file's text, in memory (64 MiB at most)
      std::string text;
      if (const int err = read_small_file(f->value, kMaxData, text); err != 0) {
        std::fprintf(stderr, "httpc: -F: cannot read %s: %s\n", f->value.c_str(),
                     err == EFBIG ? "larger than 64 MiB (use NAME=@FILE)" : std::strerror(err));
        return kLocalFile;
      }
      f->value = std::move(text);
    }
    RequestSpec::Part head;
    head.bytes = part_head(boundary, *f);
    spec_.parts.push_back(std::move(head));
    if (f->kind == FormField::Kind::File) {  // sent from the file, never read into memory
      const int fd = ::open(f->value.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = fd < 0 ? errno : EISDIR;
        if (fd >= 0) ::close(fd);
        std::fprintf(stderr, "httpc: -F: cannot read %s: %s\n", f->value.c_str(),
                     err == EISDIR ? "not a regular file" : std::strerror(err));
        return kLocalFile;
      }
      form_fds_.push_back(fd);
      spec_.parts.push_back({{}, fd, 0, static_cast<std::uint64_t>(st.st_size)});
      spec_.parts.push_back({"\r\n"});
    } else {
      spec_.parts.push_back({f->value + "\r\n"});
    }
  }
  spec_.parts.push_back({"--" + boundary + "--\r\n"});
  spec_.expect_continue = parts_length(spec_.parts) > kExpectThreshold;
  if (!has_header(spec_.headers, "content-type"))
    spec_.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  return 0;
}

int Session::prepare_body() {
  auto has = [&](std::string_view lower) {
    return std::any_of(spec_.headers.begin(), spec_.headers.end(),
                       [&](const auto& h) { return http::chars::iequals(h.first, lower); });
  };
  switch (o_.body) {
    case ClientOptions::Body::None:
      return 0;
    case ClientOptions::Body::Data: {
      std::string data;
      bool json = false;
      if (int code = join_data(data, json); code != 0) return code;
      if (o_.get_query) {  // -G: into the query, no body
        spec_.url.target += spec_.url.target.find('?') == std::string::npos ? "?" : "&";
        spec_.url.target += data;
        return 0;
      }
      spec_.body = RequestSpec::Body::Bytes;
      spec_.bytes = std::move(data);
      if (!has("content-type"))
        spec_.headers.emplace_back("Content-Type",
                                   json ? "application/json" : "application/x-www-form-urlencoded");
      if (json && !has("accept")) spec_.headers.emplace_back("Accept", "application/json");
      return 0;
    }
    case ClientOptions::Body::Form:
      return prepare_form();
    case ClientOptions::Body::File:
    case ClientOptions::Body::Stdin:
      break;
  }
  const bool from_stdin = o_.body == ClientOptions::Body::Stdin;
  const int fd = from_stdin ? 0 : ::open(o_.upload_file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::fprintf(stderr, "httpc: cannot read %s: %s\n", o_.upload_file.c_str(),
                 std::strerror(errno));
    return kLocalFile;
  }
  if (!from_stdin) upload_fd_ = fd;
  if (S_ISREG(st.st_mode)) {
    // A regular file (also as stdin): known length, sent with sendfile(2).
    spec_.body = RequestSpec::Body::File;
    spec_.file_fd = fd;
    spec_.file_size = static_cast<std::uint64_t>(st.st_size);
    spec_.expect_continue = spec_.file_size > kExpectThreshold;
    if (!from_stdin &&
        (o_.resume || offers_resumption(o_.resumable, spec_.method, spec_.file_size)))
      start_resumable(st);
  } else if (S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "httpc: cannot upload %s: it is a directory\n", o_.upload_file.c_str());
    return kLocalFile;
  } else {
    // A pipe or terminal: length unknown, sent chunked; it cannot be sent twice.
    spec_.body = RequestSpec::Body::Stream;
    spec_.stream_fd = fd;
    spec_.expect_continue = true;
    body_replayable_ = false;
  }
  if (!has("content-type")) spec_.headers.emplace_back("Content-Type", "application/octet-stream");
  return 0;
}

int Session::prepare_output() {
  std::string out = o_.output;
  if (out.empty() && o_.remote_name) {
    out = remote_file_name(spec_.url.target);
    if (out.empty()) {
      std::fprintf(stderr, "httpc: -O: the URL has no file name; use -o FILE\n");
      return kUsage;
    }
    if (out == "-") out = "./-";  // a file of that name, not the standard output
  }
  if (!o_.output_dir.empty() && !out.empty() && out != "-" && out.front() != '/')
    out = o_.output_dir + "/" + out;
  if (o_.create_dirs && !out.empty() && out != "-") {
    if (const std::size_t slash = out.rfind('/'); slash != std::string::npos && slash > 0) {
      if (const int e = make_dirs(out.substr(0, slash)); e != 0) {
        std::fprintf(stderr, "httpc: --create-dirs: cannot make %s: %s\n",
                     out.substr(0, slash).c_str(), std::strerror(e));
        return kLocalFile;
      }
    }
  }
  struct stat st {};
  if (out == "-") {
    to_stdout_ = explicit_stdout_ = true;
  } else if (!out.empty() && ::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode) &&
             !S_ISDIR(st.st_mode)) {
    // A device, FIFO or socket (-o /dev/null): written to as it is, like the standard
    // output. A .part file renamed over it would replace the device with a file.
    stream_fd_ = ::open(out.c_str(), O_WRONLY | O_CLOEXEC);
    if (stream_fd_ < 0) {
      std::fprintf(stderr, "httpc: cannot write %s: %s\n", out.c_str(), std::strerror(errno));
      return kLocalFile;
    }
    to_stdout_ = explicit_stdout_ = true;
  } else if (!out.empty()) {
    file_ = std::make_unique<FileOutput>(out);
    if (o_.no_clobber && !o_.force && file_->exists()) {
      std::fprintf(stderr,
                   "httpc: %s exists; use --force to replace it, or -o to choose another name\n",
                   out.c_str());
      return kLocalFile;
    }
  } else {
    to_stdout_ = true;
  }
  return 0;
}

std::string Session::status_line(int version_minor, int status, std::string_view reason) const {
  // As curl prints it: HTTP/2 heads have no reason phrase.
  if (http2_) return "HTTP/2 " + std::to_string(status);
  return "HTTP/1." + std::to_string(version_minor) + " " + std::to_string(status) + " " +
         std::string(reason);
}

std::string Session::walk_spec(const ClientOptions& o, RunShared& shared, const http::Url& url,
                               RequestSpec& spec) {
  spec.url = url;
  spec.headers = o.headers;
  // -u USER:PASS goes with them too (to the URL's origin: a walk never leaves it).
  if (o.user && o.user->find(':') != std::string::npos && !has_header(o.headers, "authorization")) {
    const std::size_t colon = o.user->find(':');
    spec.headers.emplace_back(
        "Authorization", basic_authorization(o.user->substr(0, colon), o.user->substr(colon + 1)));
  }
  spec.verbose = o.verbose;
  spec.connect_timeout = o.connect_timeout;
  spec.ip_family = o.ip_family;
  spec.pool = shared.pool;
  if (proxy_for(o, url, spec.proxy) != 0) return "the proxy cannot be used";
  std::string err;
  if (url.scheme == "https" && (spec.tls = run_tls(shared, o, false, err)) == nullptr)
    return err.empty() ? "TLS is not available" : err;
  return {};
}

const net::TlsContext* Session::run_tls(RunShared& shared, const ClientOptions& o, bool offer_h2,
                                        std::string& error) {
  std::unique_ptr<net::TlsContext>& ctx = shared.tls[offer_h2 ? 1 : 0];
  if (!ctx) ctx = net::TlsContext::client(!o.insecure, o.cacert, error, offer_h2);
  return ctx.get();
}

std::string Session::ensure_tls() {
  if (tls_) return {};
  std::string err;
  const bool offer_h2 =
      o_.http2 != ClientOptions::Http2::Off && spec_.body != RequestSpec::Body::Stream;
  tls_ = run_tls(shared_, o_, offer_h2, err);
  return tls_ ? std::string() : err;
}

void Session::begin_transfer() {
  http2_ = false;
  ++attempt_;
  writing_ = false;
  first_chunk_ = true;
  resume_from_ = 0;
  content_sha_.reset();
  repr_sha_.reset();
  decoder_.reset();
  repr_decoded_sha_.reset();
  RequestSpec spec = with_cookies(resumable_ ? upload_spec() : spec_);
  if (file_ && o_.resume) {
    // Continue the .part file where it ends, if it holds a version we can name.
    const std::uint64_t have = file_->part_size();
    const std::string validator = file_->part_validator();
    if (have > 0 && !validator.empty()) {
      resume_from_ = have;
      spec.headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
      spec.headers.emplace_back("If-Range", validator);
    }
  }
  // --compressed with -C -: a range is a range of the representation the server selects,
  // and the bytes of a coded one are not those of the .part file, which always holds decoded
  // bytes. So the request that continues a .part file asks for no coding: the rest comes as
  // identity bytes, which continue the decoded ones (If-Range still restarts a changed file
  // from zero), and a server that codes the range anyway is refused (start_decoding).
  // Restarting coded from zero instead would throw away what already arrived.
  if (o_.compressed && resume_from_ == 0 && !has_header(spec.headers, "accept-encoding"))
    spec.headers.emplace_back("Accept-Encoding", std::string(kAcceptEncoding));
  current_ = Transfer::start(loop_, std::move(spec), *this);
}

// ---- the answer

int Session::on_head(const http::ResponseHead& h) {
  // An upload's probe or cancellation: its answer is for the session, not the output.
  if (resumable_ && (step_ == UploadStep::Probe || step_ == UploadStep::Cancel)) return 0;
  // An upload's progress line counts the file, not the short answer to it.
  const bool upload = spec_.body == RequestSpec::Body::File;
  if (!upload) progress_.set_done(0);
  if (shared_.jar) {
    const std::string path = spec_.url.target.substr(0, spec_.url.target.find('?'));
    for (const http::Header& f : h.headers)
      if (http::chars::iequals(f.name, "set-cookie"))
        shared_.jar->receive(f.value, spec_.url.host, path, spec_.url.scheme == "https",
                             std::time(nullptr));
  }
  // -w: the last answer's facts.
  facts_.http_code = h.status;
  facts_.http_version = http2_ ? "2" : "1." + std::to_string(h.version_minor);
  facts_.size_header += h.head_size;
  facts_.size_download = 0;  // the body of this answer (curl's, after redirects too)
  facts_.time_starttransfer = static_cast<double>(uv_hrtime() - started_ns_) / 1e9;
  facts_.headers.clear();
  for (const http::Header& f : h.headers) facts_.headers.emplace_back(f.name, f.value);
  if (shared_.dump_fd >= 0 || o_.include_head) {
    const std::string text = head_text(status_line(h.version_minor, h.status, h.reason), h);
    if (shared_.dump_fd >= 0 && write_all(shared_.dump_fd, text) != 0) {
      std::fprintf(stderr, "httpc: -D: cannot write %s: %s\n", o_.dump_head.c_str(),
                   std::strerror(errno));
      return kLocalFile;
    }
    if (o_.include_head && !o_.print_head) heads_ += text;
  }
  if (o_.follow && h.status >= 300 && h.status < 400 && h.find("location"))
    return 0;  // the body of a redirect is not wanted
  if (o_.print_answer) {
    // The positional form's writes print the answer: its status line, then its body.
    if (int code = write_stdout(status_line(h.version_minor, h.status, h.reason) + "\n"); code != 0)
      return code;
  }
  last_modified_.reset();
  if (const http::Header* lm = h.find("last-modified"))
    last_modified_ = http::parse_http_date(lm->value);
  note_digests(h);
  length_known_ = h.framing == http::ResponseFraming::Length;
  if (h.framing == http::ResponseFraming::Length && !upload) progress_.set_total(h.content_length);
  if (o_.max_filesize > 0 && h.framing == http::ResponseFraming::Length &&
      h.content_length > o_.max_filesize && !o_.print_head)
    return too_large(h.content_length);
  if (file_ && o_.header_name && h.status >= 200 && h.status < 300)
    if (int code = name_from_disposition(h); code != 0) return code;
  if (file_ && o_.segments > 1 && !segments_off_ && resume_from_ == 0)
    if (int code = maybe_segment(h); code != 0) return code;
  if (file_) return open_file(h);
  writing_ = !o_.print_head;
  if (!heads_.empty()) {  // -i: the heads go first
    if (int code = write_stdout(heads_); code != 0) return code;
    heads_.clear();
  }
  return writing_ ? start_decoding(h, false) : 0;
}

void Session::note_digests(const http::ResponseHead& h) {
  // Digests the server sent: checked when the body is complete.
  content_digest_.clear();
  repr_digest_.clear();
  bool malformed = false;
  if (const http::Header* d = h.find("content-digest"))
    if (auto v = http::sha256_from_digest_field(d->value, malformed)) content_digest_ = *v;
  if (const http::Header* d = h.find("repr-digest"))
    if (auto v = http::sha256_from_digest_field(d->value, malformed)) repr_digest_ = *v;
  if (!content_digest_.empty()) content_sha_ = std::make_unique<io::Sha256>();
  if (!repr_digest_.empty()) repr_sha_ = std::make_unique<io::Sha256>();
}

int Session::name_from_disposition(const http::ResponseHead& h) {
  const http::Header* cd = h.find("content-disposition");
  if (cd == nullptr) return 0;
  const std::string name = disposition_file_name(cd->value);
  if (name.empty()) {
    std::fprintf(stderr,
                 "httpc: -J: the server's file name is not safe to use (%.*s); saving as %s\n",
                 static_cast<int>(cd->value.size()), cd->value.data(), file_->path().c_str());
    return 0;
  }
  const std::string path = o_.output_dir.empty() ? name : o_.output_dir + "/" + name;
  if (path != file_->path()) file_ = std::make_unique<FileOutput>(path);
  named_by_server_ = true;
  if (!o_.force && file_->exists()) {
    std::fprintf(stderr, "httpc: -J: %s exists; use --force to replace it\n", path.c_str());
    return kLocalFile;
  }
  return 0;
}

int Session::open_file(const http::ResponseHead& h) {
  // Only a successful answer goes to the file (an error page is not the file).
  if (!(h.status >= 200 && h.status < 300) && !o_.no_fail) return 0;
  const http::Header* cr = h.find("content-range");
  const Resume resume = judge_resume(h.status, cr ? cr->value : "", resume_from_);
  if (resume == Resume::Mismatch) return kProtocol;  // a range we did not ask for
  if (resume == Resume::Complete || resume == Resume::Refused) return 0;  // see complete()
  const bool append = resume == Resume::Append;
  // Before the .part file is touched: an answer that cannot be decoded leaves it as it was.
  if (int code = start_decoding(h, append); code != 0) return code;
  const http::Header* etag = h.find("etag");
  const http::Header* lm = h.find("last-modified");
  const std::string validator =
      part_validator(etag ? etag->value : std::string_view{}, lm ? lm->value : std::string_view{});
  if (int r = file_->open(append, validator); r < 0) {
    std::fprintf(stderr, "httpc: cannot write %s: %s\n", file_->part_path().c_str(),
                 net::errno_text(r).c_str());
    return kLocalFile;
  }
  if (!heads_.empty()) {  // -i: the heads go into the file before the body (-C - refuses -i)
    if (int r = file_->write(heads_); r < 0) {
      std::fprintf(stderr, "httpc: cannot write %s: %s\n", file_->part_path().c_str(),
                   net::errno_text(r).c_str());
      return kLocalFile;
    }
    heads_.clear();
  }
  // With a content coding this is the coded length: less than the decoded file for anything
  // worth compressing, so still a fair test of the room. A small body is not worth the
  // fallocate(2): thousands of them (--mirror) would pay it for nothing.
  if (h.framing == http::ResponseFraming::Length && h.content_length >= kReserveMinimum) {
    if (int r = file_->reserve(h.content_length); r < 0) {
      std::fprintf(stderr, "httpc: cannot write %s: no room for %llu bytes (%s)\n",
                   file_->part_path().c_str(), static_cast<unsigned long long>(h.content_length),
                   net::errno_text(r).c_str());
      if (!append) file_->discard();  // nothing arrived: leave nothing behind
      return kLocalFile;
    }
  }
  if (append && repr_sha_) {
    // Repr-Digest covers the whole file: hash the part already on disk first.
    if (const int fd = ::open(file_->part_path().c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      repr_sha_->update_from_file(fd);
      ::close(fd);
    }
  }
  if (append)
    progress_.set_total(h.content_length + resume_from_), progress_.set_done(resume_from_);
  writing_ = true;
  return 0;
}

// ---- segmented downloads

int Session::maybe_segment(const http::ResponseHead& h) {
  const http::Header* ar = h.find("accept-ranges");
  const http::Header* ce = h.find("content-encoding");
  const http::Header* etag = h.find("etag");
  const http::Header* lm = h.find("last-modified");
  const std::string validator =
      part_validator(etag ? etag->value : std::string_view{}, lm ? lm->value : std::string_view{});
  const int n = segments_for(h.status, h.framing == http::ResponseFraming::Length, h.content_length,
                             ar ? ar->value : "", ce ? ce->value : "", validator, o_.segments);
  if (n <= 1) {
    if (o_.verbose)
      std::fprintf(stderr, "* Not segmented: the answer cannot be fetched in ranges\n");
    return 0;
  }
  const std::uint64_t length = h.content_length;
  // No validator on the .part file: with holes in it, only its segment record may continue
  // it (a plain -C - that found none starts from zero).
  int r = file_->open(false, {});
  if (r == 0) r = file_->preallocate(length);
  if (r < 0) {
    std::fprintf(stderr, "httpc: cannot write %s (%llu bytes): %s\n", file_->part_path().c_str(),
                 static_cast<unsigned long long>(length), net::errno_text(r).c_str());
    file_->discard();
    return kLocalFile;
  }
  if (start_segments(plan_segments(length, n, validator), file_->part_path() + ".segments") != 0) {
    file_->discard();
    return kLocalFile;
  }
  if (o_.verbose)
    std::fprintf(stderr, "* Fetching %llu bytes in %d segments, pinned to %s\n",
                 static_cast<unsigned long long>(length), n, validator.c_str());
  return kPartial;  // this transfer has done its part: its body is not wanted
}

bool Session::resume_segments() {
  const std::string record = file_->part_path() + ".segments";
  std::string text;
  if (read_small_file(record, 1 << 20, text) != 0) return false;
  const std::optional<SegmentMap> map = parse_segment_map(text);
  struct stat st {};
  const bool fits = map && ::stat(file_->part_path().c_str(), &st) == 0 &&
                    static_cast<std::uint64_t>(st.st_size) == map->length;
  if (!fits || file_->open(true, {}) != 0) {
    std::fprintf(stderr, "httpc: %s cannot be trusted; the download starts again\n",
                 record.c_str());
    ::unlink(record.c_str());
    file_->discard();
    return false;
  }
  const std::uint64_t have = map->length - map->remaining();
  if (!o_.silent)
    std::fprintf(stderr, "httpc: resuming %zu segments of %s at %llu of %llu bytes\n",
                 map->segments.size(), file_->path().c_str(), static_cast<unsigned long long>(have),
                 static_cast<unsigned long long>(map->length));
  return start_segments(*map, record) == 0;
}

int Session::start_segments(SegmentMap map, std::string record) {
  progress_.set_total(map.length);
  progress_.set_done(map.length - map.remaining());
  segments_ = std::make_unique<SegmentedDownload>(loop_, with_cookies(spec_), file_->fd(),
                                                  std::move(map), std::move(record), *this);
  if (segments_->start() != 0) return kLocalFile;
  segmenting_ = true;
  return 0;
}

RequestSpec Session::with_cookies(RequestSpec spec) const {
  if (!has_header(spec.headers, "cookie"))
    if (std::string c = cookie_field(spec); !c.empty()) spec.headers.emplace_back("Cookie", c);
  return spec;
}

void Session::on_segment_bytes(std::uint64_t n) {
  facts_.size_download += n;
  progress_.add(n);
}

void Session::on_segment_head(const http::ResponseHead& h) {
  // A 206's Repr-Digest is the whole file's (its Content-Digest only the part's): for a
  // resumed download it is the only digest there is.
  if (!repr_digest_.empty()) return;
  bool malformed = false;
  if (const http::Header* d = h.find("repr-digest"))
    if (auto v = http::sha256_from_digest_field(d->value, malformed)) repr_digest_ = *v;
}

void Session::on_segments_done(int code, bool restart, std::string why) {
  segmenting_ = false;
  if (done_) return close_handles();
  if (restart) {
    segments_->forget_record();
    file_->discard();  // bytes of two versions may be in it
    if (!o_.silent) std::fprintf(stderr, "httpc: %s; fetching it as one stream\n", why.c_str());
    segments_off_ = true;
    attempt_ = 0;
    return begin_transfer();
  }
  if (code != 0) {
    file_->close();
    return finish(code, why + "; what arrived is kept in " + file_->part_path() +
                            " and its segment record (resume with -C -)");
  }
  if (check_file_digest() != 0) return;
  if (int e = file_->commit(last_modified_, (o_.no_clobber || named_by_server_) && !o_.force);
      e < 0)
    return finish(kLocalFile, "cannot rename " + file_->part_path() + " to " + file_->path() +
                                  ": " + net::errno_text(e));
  segments_->forget_record();
  finish(0, {});
}

int Session::check_file_digest() {
  // For a 200 its Content-Digest is the whole file's too.
  const std::string& want = !repr_digest_.empty() ? repr_digest_ : content_digest_;
  if (want.empty()) return 0;
  io::Sha256 sha;
  const int fd = ::open(file_->part_path().c_str(), O_RDONLY | O_CLOEXEC);
  const bool read = fd >= 0 && sha.update_from_file(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (read && sha.finish_text() == want) return 0;
  segments_->forget_record();
  file_->discard();
  finish(kIntegrity,
         "the finished file does not match the digest the server sent; nothing was "
         "saved");
  return kIntegrity;
}

int Session::start_decoding(const http::ResponseHead& h, bool append) {
  decoder_.reset();
  repr_decoded_sha_.reset();
  // Without --compressed the body is written as it comes, coded or not (as curl does).
  if (!o_.compressed) return 0;
  std::string fields;
  for (const http::Header& f : h.headers)
    if (http::chars::iequals_lower(f.name, "content-encoding"))
      fields.append(fields.empty() ? "" : ", ").append(f.value);
  std::string what;
  const std::optional<http::Coding> coding = answer_coding(fields, what);
  if (!coding) {
    if (what.find(',') != std::string::npos)
      std::fprintf(stderr,
                   "httpc: the answer has several content codings (%s); --compressed decodes "
                   "one of zstd, gzip or br\n",
                   what.c_str());
    else
      std::fprintf(stderr,
                   "httpc: the answer's content coding '%s' is not one httpc decodes (zstd, "
                   "gzip, br)\n",
                   what.c_str());
    return kProtocol;
  }
  if (*coding == http::Coding::Identity) return 0;
  const std::string_view name = http::coding_name(*coding);
  if (append) {
    // See begin_transfer: the .part file holds decoded bytes, and the middle of a coded
    // stream cannot be decoded on its own.
    std::fprintf(stderr,
                 "httpc: the server sent the rest of %s in %s, which cannot continue the decoded "
                 "bytes; run without -C - to start again\n",
                 file_->part_path().c_str(), std::string(name).c_str());
    return kProtocol;
  }
  decoder_ = http::ContentDecoder::make(*coding);
  if (!repr_digest_.empty()) repr_decoded_sha_ = std::make_unique<io::Sha256>();
  if (o_.verbose)
    std::fprintf(stderr, "* Decoding the %s content coding\n", std::string(name).c_str());
  return 0;
}

std::string Session::decoding_problem() const {
  return "the " + std::string(http::coding_name(decoder_->coding())) + " content is " +
         std::string(http::error_text(decoder_->error()));
}

int Session::on_body(std::string_view data) {
  facts_.size_download += data.size();
  if (!writing_) return 0;
  if (o_.max_filesize > 0 && facts_.size_download > o_.max_filesize)
    return too_large(facts_.size_download);
  progress_.add(data.size());
  if (content_sha_) content_sha_->update(data);
  if (repr_sha_) repr_sha_->update(data);
  if (!decoder_) return emit(data);
  // Out in pieces of at most ContentDecoder::kMaxOutput bytes each, so that memory stays
  // the same whatever the coded bytes expand to.
  for (;;) {
    decoded_.clear();
    data.remove_prefix(decoder_->decode(data, decoded_));
    if (!decoded_.empty()) {
      if (repr_decoded_sha_) repr_decoded_sha_->update(decoded_);
      if (int code = emit(decoded_); code != 0) return code;
    }
    if (decoder_->error() != http::ContentDecoder::Error::None) {
      // What was written is known to be wrong: nothing of it is kept.
      std::fprintf(stderr, "httpc: %s%s\n", decoding_problem().c_str(),
                   file_ ? "; nothing was saved" : "");
      if (file_) file_->discard();
      return decoder_->error() == http::ContentDecoder::Error::NoMemory ? kInternal : kProtocol;
    }
    if (data.empty() && !decoder_->output_pending()) return 0;
  }
}

int Session::emit(std::string_view data) {
  if (file_) {
    if (int r = file_->write(data); r < 0) {
      std::fprintf(stderr, "httpc: cannot write %s: %s\n", file_->part_path().c_str(),
                   net::errno_text(r).c_str());
      return kLocalFile;
    }
    return 0;
  }
  if (first_chunk_ && !explicit_stdout_ && ::isatty(1) == 1 &&
      data.find('\0') != std::string_view::npos) {
    std::fprintf(stderr,
                 "httpc: binary output would mess up the terminal; use -o FILE, or -o - to write "
                 "it anyway\n");
    return kLocalFile;
  }
  first_chunk_ = false;
  return write_stdout(data);
}

int Session::write_all(int fd, std::string_view data) {
  for (;;) {
    std::uint64_t written = 0;
    const int r = io::write_all(fd, data, written);
    if (r != -EAGAIN) return -r;
    data.remove_prefix(static_cast<std::size_t>(written));
    pollfd p{fd, POLLOUT, 0};  // a non-blocking stdout: wait for it
    ::poll(&p, 1, -1);
  }
}

int Session::write_stdout(std::string_view data) {
  if (const int err = write_all(stream_fd_, data); err != 0) {
    std::fprintf(stderr, "httpc: cannot write to the standard output: %s\n", std::strerror(err));
    return kLocalFile;
  }
  return 0;
}

int Session::too_large(std::uint64_t bytes) {
  std::fprintf(stderr, "httpc: the answer is larger than --max-filesize %llu (%s%llu bytes)%s\n",
               static_cast<unsigned long long>(o_.max_filesize),
               bytes == facts_.size_download ? "more than " : "",
               static_cast<unsigned long long>(bytes), file_ ? "; nothing was saved" : "");
  if (file_) file_->discard();
  return kTooLarge;
}

int Session::splice_fd() {
  // Zero-copy into the file, unless the bytes must be hashed or decoded on the way, or
  // counted against --max-filesize (a body of unknown length).
  if (!writing_ || !file_ || content_sha_ || repr_sha_ || decoder_) return -1;
  if (o_.max_filesize > 0 && !length_known_) return -1;
  return file_->fd();
}

void Session::on_spliced(std::uint64_t n) {
  facts_.size_download += n;
  // Spliced bytes are past checking one by one: splice_fd() offers no zero-copy path with
  // --max-filesize unless the length was known (and checked) from the head.
  progress_.add(n);
}

void Session::on_body_sent(std::uint64_t n) {
  facts_.size_upload = n;  // of this request's body, so far
  if (spec_.body != RequestSpec::Body::File) return;
  // A resumed upload shows what the server had already as done.
  const bool appending = resumable_ && step_ == UploadStep::Append;
  progress_.set_total(spec_.file_size);
  progress_.set_done((appending ? upload_offset_ : 0) + n);
}

void Session::print_head(const TransferResult& r) {
  std::string head = status_line(r.version_minor, r.status, r.reason) + "\r\n";
  for (const auto& [n, v] : r.headers) head += n + ": " + v + "\r\n";
  head += "\r\n";
  write_stdout(head);
}

// ---- the end of an attempt

void Session::on_finished(TransferResult r) {
  current_ = nullptr;
  if (done_) return close_handles();
  if (segmenting_) return;  // the plan's answer, cut short: the segments go on
  if (resumable_ && upload_finished(r)) return;
  if (r.exit_code != 0) return failed(r);
  if (o_.follow && r.status >= 300 && r.status < 400 && !r.header("location").empty())
    return follow(r);
  if ((retryable_status(r.status) || (o_.retry_all_errors && r.status >= 400)) &&
      retries_left_ > 0 && body_replayable_) {
    std::uint64_t wait = backoff_ms(attempt_);
    if (std::string ra = r.header("retry-after"); !ra.empty())
      wait = retry_after_ms(ra, std::time(nullptr)).value_or(wait);
    return retry_or_fail(r.status >= 500 ? kHttp5xx : kHttp4xx,
                         std::to_string(r.status) + " " + r.reason, wait);
  }
  complete(r);
}

void Session::failed(const TransferResult& r) {
  if (file_) file_->close();  // what arrived stays in the .part file, for -C -
  std::string why = r.error.empty() ? "the transfer stopped" : r.error;
  if (file_ && file_->part_size() > 0 && r.exit_code == kPartial)
    why += "; what arrived is kept in " + file_->part_path() + " (resume with -C -)";
  if (retryable_failure(r.exit_code, body_replayable_, r.request_sent, o_.retry_all_errors))
    return retry_or_fail(r.exit_code, why, backoff_ms(attempt_));
  // A code from a handler (local file, binary refusal) has already been reported.
  finish(r.exit_code, r.error.empty() ? std::string() : why);
}

void Session::follow(const TransferResult& r) {
  if (++redirects_ > o_.max_redirects)
    return finish(kProtocol, "more than " + std::to_string(o_.max_redirects) + " redirects");
  std::string err;
  auto next = http::resolve_reference(spec_.url, r.header("location"), &err);
  if (!next)
    return finish(kProtocol,
                  "cannot follow the redirect to '" + r.header("location") + "': " + err);
  if (next->scheme == "https") {
    if (std::string why = ensure_tls(); !why.empty())
      return finish(net::tls_available() ? kLocalFile : kUsage, why);
    spec_.tls = tls_;
  }
  const Redirect rd = redirect(r.status, spec_.method);
  if (!rd.drop_body && spec_.body == RequestSpec::Body::Stream)
    return finish(kProtocol,
                  "redirected, but a body read from the standard input cannot be sent again");
  spec_.headers = redirected_headers(spec_.headers, spec_.url, *next, rd.drop_body);
  spec_.method = rd.method;
  if (rd.drop_body) {
    spec_.body = RequestSpec::Body::None;
    spec_.expect_continue = false;
  }
  if (o_.verbose)
    std::fprintf(stderr, "* Following %d to %s\n", r.status, next->to_string().c_str());
  spec_.url = *next;
  if (int code = route(spec_.url); code != 0) return finish(code, {});
  attempt_ = 0;
  begin_transfer();
}

void Session::complete(const TransferResult& r) {
  if (o_.print_head) print_head(r);  // -I and HEAD: the head is the output
  if (file_ && !writing_ &&
      judge_resume(r.status, r.header("content-range"), resume_from_) == Resume::Complete) {
    // 416 to a resume: the .part file held the whole file already.
    if (int e = file_->commit(last_modified_, (o_.no_clobber || named_by_server_) && !o_.force);
        e < 0)
      return finish(kLocalFile, "cannot rename " + file_->part_path() + ": " + net::errno_text(e));
    return finish(0, {});
  }
  if (writing_) {
    const Digest d = judge_digests(content_digest_, digest_text(content_sha_), repr_digest_,
                                   digest_text(repr_sha_), digest_text(repr_decoded_sha_));
    if (d != Digest::Match) {
      if (file_) file_->discard();
      return finish(kIntegrity, "the body does not match the digest the server sent (" +
                                    std::string(d == Digest::ContentMismatch ? "Content-Digest"
                                                                             : "Repr-Digest") +
                                    ")" + (file_ ? "; nothing was saved" : ""));
    }
    if (decoder_) {
      // The framing said the body is complete; the coded stream must be too.
      const http::ContentDecoder::Error e = decoder_->end();
      if (e == http::ContentDecoder::Error::Truncated) {
        // Cut short, like a body that ends early: what was decoded is right as far as it goes
        // and stays for -C - (which continues it uncoded, see begin_transfer).
        std::string why = decoding_problem();
        if (file_) {
          file_->close();
          if (file_->part_size() > 0)
            why += "; what arrived is kept in " + file_->part_path() + " (resume with -C -)";
        }
        if (!body_replayable_) return finish(kPartial, why);
        return retry_or_fail(kPartial, why, backoff_ms(attempt_));
      }
      if (e != http::ContentDecoder::Error::None) {
        if (file_) file_->discard();
        return finish(kProtocol, decoding_problem() + (file_ ? "; nothing was saved" : ""));
      }
    }
    if (file_) {
      if (int e = file_->commit(last_modified_, (o_.no_clobber || named_by_server_) && !o_.force);
          e < 0)
        return finish(kLocalFile, "cannot rename " + file_->part_path() + " to " + file_->path() +
                                      ": " + net::errno_text(e));
    }
  }
  if (!(r.status >= 200 && r.status < 400) && !o_.no_fail)
    return finish(r.status >= 500 ? kHttp5xx : kHttp4xx,
                  spec_.method + " " + spec_.url.to_string() + ": " + std::to_string(r.status) +
                      " " + r.reason);
  const bool saves_etag = !o_.etag_save.empty() && r.status >= 200 && r.status < 300;
  finish(saves_etag ? save_etag(r) : 0, {});
}

int Session::save_etag(const TransferResult& r) {
  const std::string etag = r.header("etag");
  if (const int err = replace_file(o_.etag_save, etag.empty() ? "" : etag + "\n", 0644); err != 0) {
    std::fprintf(stderr, "httpc: --etag-save: cannot write %s: %s\n", o_.etag_save.c_str(),
                 std::strerror(err));
    return kLocalFile;
  }
  return 0;
}

// ---- resumable uploads

void Session::start_resumable(const struct stat& st) {
  resumable_ = true;
  source_ = st;
  upload_tries_ = o_.retries_given ? o_.retries : 5;
  memos_ = std::make_unique<UploadMemos>(UploadMemos::default_state_dir());
  if (!o_.resume) return;
  const std::optional<UploadMemo> memo = memos_->recall(o_.upload_file, spec_.url.to_string());
  std::optional<http::Url> at;
  if (memo) at = http::resolve_reference(spec_.url, memo->upload_url);
  if (!at) {
    if (o_.verbose)
      std::fprintf(stderr, "* No unfinished upload of %s to %s is known: starting anew\n",
                   o_.upload_file.c_str(), spec_.url.to_string().c_str());
    return;
  }
  upload_at_ = *at;
  if (!same_source(*memo, st)) {
    cancel_upload(o_.upload_file +
                  " changed since its upload began; the unfinished upload was "
                  "cancelled (run the command without -C - to send it anew)");
    return;
  }
  step_ = UploadStep::Probe;
  if (o_.verbose)
    std::fprintf(stderr, "* Continuing the upload at %s\n", upload_at_->to_string().c_str());
}

RequestSpec Session::upload_spec() const {
  RequestSpec s = spec_;
  auto drop = [&](std::string_view lower) {
    std::erase_if(s.headers, [&](const auto& h) { return http::chars::iequals(h.first, lower); });
  };
  s.headers.emplace_back("Upload-Draft-Interop-Version", "8");
  if (step_ == UploadStep::Send) {
    s.headers.emplace_back("Upload-Complete", "?1");
    return s;
  }
  s.url = *upload_at_;
  drop("content-type");
  s.body = RequestSpec::Body::None;
  s.expect_continue = false;
  if (step_ == UploadStep::Probe) s.method = "HEAD";
  if (step_ == UploadStep::Cancel) s.method = "DELETE";
  if (step_ != UploadStep::Append) return s;
  s.method = "PATCH";
  s.headers.emplace_back("Content-Type", "application/partial-upload");
  s.headers.emplace_back("Upload-Offset", std::to_string(upload_offset_));
  s.headers.emplace_back("Upload-Complete", "?1");
  s.body = RequestSpec::Body::File;
  s.file_offset = upload_offset_;
  s.file_size = spec_.file_size - upload_offset_;
  return s;
}

void Session::on_interim(const http::ResponseHead& h) {
  if (!resumable_ || step_ != UploadStep::Send || h.status != 104) return;
  const http::Header* location = h.find("location");
  if (location == nullptr) return;
  upload_at_ = http::resolve_reference(spec_.url, location->value);
  if (!upload_at_) return;
  if (o_.verbose)
    std::fprintf(stderr, "* The server keeps this upload at %s\n", upload_at_->to_string().c_str());
  remember_upload();
}

void Session::remember_upload() {
  UploadMemo memo;
  memo.target_url = spec_.url.to_string();
  memo.upload_url = upload_at_->to_string();
  memo.dev = source_.st_dev;
  memo.ino = source_.st_ino;
  memo.size = static_cast<std::uint64_t>(source_.st_size);
  memo.mtime_ns =
      static_cast<std::int64_t>(source_.st_mtim.tv_sec) * 1000000000 + source_.st_mtim.tv_nsec;
  if (int e = memos_->remember(o_.upload_file, memo); e < 0 && o_.verbose)
    std::fprintf(stderr, "* Cannot remember the upload for -C -: %s\n", net::errno_text(e).c_str());
}

void Session::forget_upload() {
  if (memos_) memos_->forget(o_.upload_file, spec_.url.to_string());
}

bool Session::source_changed() const {
  struct stat now {};
  if (::fstat(upload_fd_, &now) != 0) return true;
  return now.st_size != source_.st_size || now.st_mtim.tv_sec != source_.st_mtim.tv_sec ||
         now.st_mtim.tv_nsec != source_.st_mtim.tv_nsec;
}

bool Session::upload_finished(const TransferResult& r) {
  switch (step_) {
    case UploadStep::Cancel:
      finish(kLocalFile, cancel_reason_);
      return true;
    case UploadStep::Probe:
      probe_finished(r);
      return true;
    case UploadStep::Send:
    case UploadStep::Append:
      break;
  }
  if (after_upload_attempt(upload_at_.has_value(), r.exit_code, r.status) == UploadNext::Probe) {
    const std::string why = r.exit_code != 0 ? r.error : std::to_string(r.status) + " " + r.reason;
    if (source_changed()) {
      cancel_upload(o_.upload_file + " changed while it was uploaded; the upload was cancelled");
      return true;
    }
    if (o_.verbose)
      std::fprintf(stderr, "* The upload stopped (%s): asking its offset\n", why.c_str());
    step_ = UploadStep::Probe;
    probe_soon();
    return true;
  }
  // The answer stands: there is nothing left to resume.
  if (upload_at_) forget_upload();
  return false;
}

void Session::probe_soon() {
  schedule(probe_failures_ == 0 ? 0 : backoff_ms(probe_failures_));
}

void Session::probe_finished(const TransferResult& r) {
  std::uint64_t at = 0;
  const std::uint64_t size = spec_.file_size;
  switch (judge_probe(r.exit_code, r.status, r.header("upload-offset"), r.header("upload-complete"),
                      size, at)) {
    case Probe::Append:
      break;
    case Probe::Completed:
      forget_upload();  // the last answer was lost on its way back; the file is there
      if (o_.verbose) std::fprintf(stderr, "* The server has the whole upload\n");
      return finish(0, {});
    case Probe::Gone:
      // Expired or removed: the only way on is a new upload.
      forget_upload();
      upload_at_.reset();
      step_ = UploadStep::Send;
      if (++stalled_ > upload_tries_)
        return upload_give_up(kHttp4xx, "the server lost the upload each time");
      if (!o_.silent)
        std::fprintf(stderr, "httpc: the server no longer has the upload; sending it anew\n");
      return schedule(0);
    case Probe::Again:
      if (++probe_failures_ > upload_tries_)
        return upload_give_up(
            r.exit_code != 0 ? r.exit_code : kHttp5xx,
            "cannot learn the upload's offset: " +
                (r.exit_code != 0 ? r.error : std::to_string(r.status) + " " + r.reason));
      return probe_soon();
    case Probe::Refused:
      forget_upload();
      return finish(r.status >= 500   ? kHttp5xx
                    : r.status >= 400 ? kHttp4xx
                                      : kProtocol,
                    "HEAD " + upload_at_->to_string() + ": " + std::to_string(r.status) + " " +
                        r.reason + (r.status < 400 ? " without a usable Upload-Offset" : ""));
  }
  probe_failures_ = 0;
  const bool progress = !probed_ || at > upload_offset_;
  probed_ = true;
  stalled_ = progress ? 0 : stalled_ + 1;
  if (stalled_ > upload_tries_)
    return upload_give_up(
        kPartial, "the upload made no progress in " + std::to_string(upload_tries_) + " tries");
  upload_offset_ = at;
  step_ = UploadStep::Append;
  progress_.set_total(size);
  progress_.set_done(at);
  const std::uint64_t wait = stalled_ == 0 ? 0 : backoff_ms(stalled_);
  if (o_.verbose || (!o_.silent && attempt_ > 1))
    std::fprintf(stderr, "httpc: resuming the upload at byte %llu of %llu%s\n",
                 static_cast<unsigned long long>(at), static_cast<unsigned long long>(size),
                 wait > 0 ? (" in " + std::to_string(wait / 1000) + " s").c_str() : "");
  schedule(wait);
}

void Session::upload_give_up(int code, const std::string& why) {
  finish(code, why +
                   "; the server keeps what it received until it expires: run the same "
                   "command with -C - to continue");
}

void Session::cancel_upload(std::string why) {
  forget_upload();
  cancel_reason_ = std::move(why);
  step_ = UploadStep::Cancel;
  if (current_ == nullptr && timers_open_) schedule(0);
}

void Session::schedule(std::uint64_t wait_ms) {
  uv_timer_start(&retry_timer_, &Session::on_retry_timer, wait_ms, 0);
}

void Session::retry_or_fail(int code, const std::string& why, std::uint64_t wait_ms) {
  if (retries_left_ <= 0) return finish(code, why);
  --retries_left_;
  if (!o_.silent)
    std::fprintf(stderr, "httpc: %s; retrying in %.1f s (%d left)\n", why.c_str(),
                 static_cast<double>(wait_ms) / 1000.0, retries_left_);
  uv_timer_start(&retry_timer_, &Session::on_retry_timer, wait_ms, 0);
}

void Session::on_retry_timer(uv_timer_t* t) {
  auto* self = static_cast<Session*>(t->data);
  if (!self->done_) self->begin_transfer();
}

void Session::on_max_timer(uv_timer_t* t) {
  auto* self = static_cast<Session*>(t->data);
  const std::string why =
      "gave up after --max-time " + std::to_string(self->o_.max_time).substr(0, 6) + " s";
  if (self->segmenting_) return self->segments_->cancel(kTimeout, why);
  if (self->current_ != nullptr) {
    self->retries_left_ = 0;
    self->current_->cancel(kTimeout, why);
  } else {
    uv_timer_stop(&self->retry_timer_);
    self->finish(kTimeout, why);
  }
}

void Session::finish(int code, const std::string& message) {
  if (done_) return;
  done_ = true;
  exit_ = code;
  progress_.close();
  if (!message.empty()) std::fprintf(stderr, "httpc: %s\n", message.c_str());
  facts_.exitcode = code;
  facts_.errormsg = message;
  if (!o_.write_out.empty()) write_out();
  if (current_ == nullptr) close_handles();
  if (shared_.on_done) shared_.on_done(*this);
}

void Session::write_out() {
  std::string format = o_.write_out;
  if (format.starts_with("@")) {
    const std::string path = format.substr(1);
    format.clear();
    const int err = path == "-" ? read_all(0, kMaxSmallInput, format)
                                : read_small_file(path, kMaxSmallInput, format);
    if (err != 0) {
      std::fprintf(stderr, "httpc: -w: cannot read %s: %s\n", path.c_str(), std::strerror(err));
      return;
    }
  }
  facts_.method = spec_.method;
  facts_.url_effective = spec_.url.to_string();
  facts_.num_redirects = redirects_;
  facts_.filename_effective = file_ ? file_->path() : std::string();
  facts_.content_type.clear();
  for (const auto& [n, v] : facts_.headers)
    if (http::chars::iequals(n, "content-type")) facts_.content_type = v;
  facts_.time_total = static_cast<double>(uv_hrtime() - started_ns_) / 1e9;
  std::vector<std::string> unknown;
  for (const WriteOutPiece& p : format_write_out(format, facts_, unknown)) {
    // The standard output itself, as curl writes it, also when -o names a device
    // (-o /dev/null -w '%{http_code}').
    write_all(p.stream == WriteOutStream::Stderr ? 2 : 1, p.text);
  }
  for (const std::string& name : unknown)
    std::fprintf(stderr, "httpc: -w: unknown variable %%{%s}\n", name.c_str());
}

void Session::on_timer_closed(uv_handle_t* h) {
  --static_cast<Session*>(h->data)->timers_closing_;
}

void Session::close_handles() {
  if (!timers_open_) return;
  timers_open_ = false;
  timers_closing_ = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_), &Session::on_timer_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&max_timer_), &Session::on_timer_closed);
  if (upload_fd_ >= 0) ::close(upload_fd_);
  upload_fd_ = -1;
  for (const int fd : form_fds_) ::close(fd);
  form_fds_.clear();
  if (stream_fd_ != 1) ::close(stream_fd_);
  stream_fd_ = 1;
}

}  // namespace httpfs::client
