// httpc's command line: three forms, one set of options.
//
//   httpc HOST PORT GET|HEAD|PUT|POST|DELETE FILE      positional
//   httpc get|head|delete [-v] [-h K:V]... URL         cURL-like
//   httpc post|put [-v] [-h K:V]... (-d DATA | -f FILE) URL
//   httpc help [CMD]
//   httpc [options] URL...                             plain (like curl)
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace httpfs::client {

// Exit codes: a small, stable, documented set (httpc help exit-codes).
enum ExitCode : int {
  kOk = 0,
  kInternal = 1,       // a bug or an unexpected system failure
  kUsage = 2,          // bad command line
  kDns = 3,            // the host name did not resolve
  kConnect = 4,        // no address accepted the connection
  kTimeout = 5,        // --connect-timeout or --max-time ran out
  kHttp4xx = 6,        // the final answer was 4xx (without --no-fail)
  kHttp5xx = 7,        // the final answer was 5xx (without --no-fail)
  kPartial = 8,        // the body ended early or its framing broke
  kLocalFile = 9,      // a local file could not be read or written (or would be overwritten)
  kIntegrity = 10,     // a digest the server sent does not match the bytes
  kProtocol = 11,      // not valid HTTP, an undecodable content coding, or too many redirects
  kTls = 12,           // the TLS handshake failed (protocol, version, not TLS at all)
  kTlsUntrusted = 13,  // the certificate does not lead to a trusted CA
  kTlsExpired = 14,    // the certificate expired (or is not valid yet)
  kTlsWrongHost = 15,  // the certificate is for another host name
  kTooLarge = 16,      // the answer is larger than --max-filesize
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --resumable: whether uploads of files offer resumption (client/policy.hpp).
enum class ResumableMode : std::uint8_t { Auto, Always, Never };

struct ClientOptions {
  std::string method = "GET";
  std::string url;
  // Several URLs in one run (plain form): each with its own output, paired in order as curl
  // pairs them (the n-th -o or -O goes with the n-th URL; the others go to stdout, or are
  // saved by name with --remote-name-all). One URL: url, output and remote_name say it all.
  struct Target {
    std::string url;
    std::string output;
    bool remote_name = false;
    std::string time_cond;    // -z for this URL only ("": the run's)
    std::string upload_file;  // a PUT of this file (--upload-tree), instead of a GET
  };
  std::vector<Target> targets;
  bool parallel = false;  // -Z: the URLs at once, --parallel-max at a time
  int parallel_max = 50;
  // --mirror URL DIR: the tree under URL's directory into DIR (client/mirror.hpp); --delete:
  // what vanished from it goes from DIR too.
  bool mirror = false;
  std::string mirror_dir;
  bool mirror_delete = false;
  // --upload-tree DIR URL: every file under DIR sent to URL's directory (client/upload_tree.hpp).
  bool upload_tree = false;
  std::string tree_dir;
  // --segments N: a download to a file fetched as N byte ranges at once, when the server
  // allows (client/segmented_download.hpp); 1: one stream.
  int segments = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // as given, in order

  enum class Body { None, Data, File, Stdin, Form } body = Body::None;
  // Body::Form: each -F as given (NAME=VALUE, NAME=@FILE, NAME=<FILE, with ;type= and
  // ;filename=), sent as one multipart/form-data body (client/form_body.hpp).
  std::vector<std::string> form;
  // Body::Data: -d, --data-urlencode and --json, in order, joined when the run starts (an
  // @FILE is read then): -d and --data-urlencode parts with '&', --json ones as they are.
  struct DataPart {
    enum class Kind : std::uint8_t { Raw, UrlEncode, Json } kind;
    std::string text;  // as given
  };
  std::vector<DataPart> data;
  bool get_query = false;   // -G: the data goes into the URL's query, the method is GET
  std::string upload_file;  // -T / -f / the positional FILE

  std::string output;         // "-": stdout; "": the form's default
  std::string output_dir;     // --output-dir: where -o (relative) and -O names go
  bool create_dirs = false;   // --create-dirs: make the missing directories of the output
  bool include_head = false;  // -i: the answer's head (and each redirect's) before its body
  std::string dump_head;      // -D FILE: every head received, as it came ("-": stdout)
  std::string write_out;      // -w FORMAT, or @FILE (@-: stdin), printed at the end
  bool remote_name = false;   // -O: save under the URL's last segment
  bool header_name = false;   // -J: ... or the name Content-Disposition offers, made safe
  bool no_clobber = false;    // refuse to replace an existing file (positional GET)
  bool force = false;         // --force: replace it anyway
  bool resume = false;        // -C - / --continue: a download's .part file, or an upload
  bool compressed = false;    // --compressed: ask for a content coding and decode it
  // --http2: offer h2 by ALPN over TLS (HTTP/1.1 when the server does not take it);
  // --http2-prior-knowledge: HTTP/2 on plain connections too, without asking.
  enum class Http2 : std::uint8_t { Off, Alpn, PriorKnowledge } http2 = Http2::Off;
  ResumableMode resumable = ResumableMode::Auto;
  bool print_head = false;    // -I, and HEAD in the positional and cURL-like forms
  bool print_answer = false;  // print the status line before the body (positional writes)
  bool verbose = false;
  bool silent = false;
  bool follow = false;
  int max_redirects = 10;
  double max_time = 0;          // seconds, 0: none
  double connect_timeout = 10;  // seconds, per address
  int retries = 0;
  bool retries_given = false;  // --retry came (resumable uploads default to 5 tries)
  bool no_fail = false;
  bool tls = false;  // --tls: the positional form's https
  bool insecure = false;
  std::string cacert;
  // Basic credentials for the URL's origin (client/credentials.hpp): -u USER[:PASS] as
  // given (without PASS, the netrc file's or a prompt on the terminal), and --netrc /
  // --netrc-file FILE ($HOME/.netrc by default).
  std::optional<std::string> user;
  bool netrc = false;
  std::string netrc_file;
  int ip_family = 0;               // -4: AF_INET, -6: AF_INET6, 0: either
  std::uint64_t max_filesize = 0;  // --max-filesize: 0 for none
  std::uint64_t limit_rate = 0;    // --limit-rate: bytes per second, 0 for none
  bool retry_all_errors = false;   // --retry-all-errors: --retry covers every failure
  std::string time_cond;           // -z DATE or FILE ('-' first: If-Unmodified-Since)
  std::string etag_save;           // --etag-save FILE
  std::string etag_compare;        // --etag-compare FILE
  // -b: "NAME=VALUE; ..." (sent to the URL's origin) or a Netscape cookie file to read
  // (repeatable); -c FILE: every cookie, written when the run ends ("-": stdout). Either
  // turns on the run's cookie engine (client/cookie_jar.hpp).
  std::vector<std::string> cookies;
  std::string cookie_jar;
  // -x URL: the HTTP proxy ("" for none, whatever the environment says); unset: the
  // environment's (client/policy.hpp). --noproxy LIST: hosts reached directly.
  std::optional<std::string> proxy;
  std::optional<std::string> noproxy;
};

struct Command {
  enum class Action { Run, Help, Version } action = Action::Run;
  std::string help_topic;  // for Help: "" or a command name
  ClientOptions options;
};

// Throws UsageError with a one-line message.
Command parse_command_line(int argc, const char* const* argv);

// `httpc help [topic]`: topics are get, head, delete, post, put, options, exit-codes.
std::string help_text(const std::string& topic);

}  // namespace httpfs::client
