#include "client/options.hpp"

#include <sys/socket.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <tuple>

#include "client/segment_map.hpp"
#include "http/chars.hpp"
#include "http/percent.hpp"

namespace httpfs::client {

namespace {

const char* const kUsageText =
    "Usage:\n"
    "  httpc HOST PORT GET|HEAD|PUT|POST|DELETE FILE   positional form\n"
    "  httpc get|head|delete [-v] [-h K:V]... URL\n"
    "  httpc post|put [-v] [-h K:V]... (-d DATA | -f FILE) URL\n"
    "  httpc [options] URL...                          plain form (GET unless -X, -d, -T, -I)\n"
    "  httpc help [get|head|delete|post|put|options|exit-codes]\n";

double parse_seconds(std::string_view opt, std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !(d > 0) || d > 1e7)
    throw UsageError(std::string(opt) + ": expected a positive number of seconds, got '" +
                     std::string(v) + "'");
  return d;
}

// A byte count with an optional k, M or G suffix (powers of 1024, as curl reads them).
std::uint64_t parse_bytes(std::string_view opt, std::string_view v) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  int shift = 0;
  if (ec == std::errc() && p + 1 == v.data() + v.size()) {
    const char s = *p++;
    shift = s == 'k' || s == 'K' ? 10 : s == 'm' || s == 'M' ? 20 : s == 'g' || s == 'G' ? 30 : -1;
  }
  if (ec != std::errc() || p != v.data() + v.size() || shift < 0 || n == 0 ||
      n > (std::uint64_t{1} << (62 - shift)))
    throw UsageError(std::string(opt) +
                     ": expected a size in bytes (a k, M or G suffix may "
                     "follow), got '" +
                     std::string(v) + "'");
  return n << shift;
}

constexpr int kMaxParallel = 300;  // --parallel-max's ceiling, as curl's

int parse_int(std::string_view opt, std::string_view v, int max) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0 || n > max)
    throw UsageError(std::string(opt) + ": expected a whole number up to " + std::to_string(max) +
                     ", got '" + std::string(v) + "'");
  return n;
}

// "Name: value" (-H) or "Name:value" (-h K:V).
std::pair<std::string, std::string> parse_header(std::string_view opt, std::string_view v) {
  std::size_t colon = v.find(':');
  std::string_view name = colon == std::string_view::npos ? v : v.substr(0, colon);
  if (colon == std::string_view::npos || name.empty())
    throw UsageError(std::string(opt) + ": expected 'Name: value', got '" + std::string(v) + "'");
  for (char c : name)
    if (!http::chars::is_token(c))
      throw UsageError(std::string(opt) + ": invalid header name '" + std::string(name) + "'");
  std::string_view value = http::chars::trim_ows(v.substr(colon + 1));
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw UsageError(std::string(opt) + ": a header value cannot hold CR, LF or NUL");
  return {std::string(name), std::string(value)};
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return out;
}

bool is_method_word(std::string_view s) {
  std::string u = upper(s);
  return u == "GET" || u == "HEAD" || u == "PUT" || u == "POST" || u == "DELETE";
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (!http::chars::is_digit(c)) return false;
  int p = std::stoi(std::string(s));
  return p >= 1 && p <= 65535;
}

// Options shared by every form. `curl_like` means -h is a header (httpc get -h K:V), not help.
// Returns false when `arg` is not an option it knows.
struct Parser {
  int argc;
  const char* const* argv;
  int i = 1;
  Command cmd;
  std::vector<std::string> positional;
  bool curl_like = false;
  bool method_given = false;
  // -o FILE and -O in the order given (-O: {"", true}), paired with the URLs afterwards.
  std::vector<std::pair<std::string, bool>> outputs;
  bool remote_name_all = false;

  // The sub-command and positional forms: at most one output, for their one URL.
  void apply_single_output() {
    if (outputs.size() > 1) throw UsageError("more -o/-O options than URLs");
    if (outputs.empty()) return;
    cmd.options.output = outputs[0].first;
    cmd.options.remote_name = outputs[0].second;
  }

  std::string_view value(std::string_view opt, std::string_view inline_value, bool has_inline) {
    if (has_inline) return inline_value;
    if (i + 1 >= argc) throw UsageError(std::string(opt) + " needs a value");
    return argv[++i];
  }

  void run() {
    ClientOptions& o = cmd.options;
    bool only_positional = false;
    for (; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (only_positional || arg.empty() || arg.front() != '-' || arg == "-") {
        positional.emplace_back(arg);
        continue;
      }
      if (arg == "--") {
        only_positional = true;
        continue;
      }
      std::string_view name = arg, inline_value;
      bool has_inline = false;
      if (arg.substr(0, 2) == "--") {
        if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
          name = arg.substr(0, eq);
          inline_value = arg.substr(eq + 1);
          has_inline = true;
        }
      } else if (arg.size() > 2) {
        // -XPUT, -Hvalue: a short option glued to its value.
        name = arg.substr(0, 2);
        inline_value = arg.substr(2);
        has_inline = true;
      }
      auto flag = [&] {
        if (has_inline) throw UsageError(std::string(name) + " takes no value");
      };
      if (name == "-v" || name == "--verbose")
        flag(), o.verbose = true;
      else if (name == "-s" || name == "--silent")
        flag(), o.silent = true;
      else if (name == "-L" || name == "--location")
        flag(), o.follow = true;
      else if (name == "-I" || name == "--head")
        flag(), o.print_head = true, o.method = "HEAD", method_given = true;
      else if (name == "-O" || name == "--remote-name")
        flag(), outputs.push_back({"", true});
      else if (name == "--remote-name-all")
        flag(), remote_name_all = true;
      else if (name == "-Z" || name == "--parallel")
        flag(), o.parallel = true;
      else if (name == "--mirror")
        flag(), o.mirror = true;
      else if (name == "--delete")
        flag(), o.mirror_delete = true;
      else if (name == "--upload-tree")
        flag(), o.upload_tree = true;
      else if (name == "-J" || name == "--remote-header-name")
        flag(), o.header_name = true;
      else if (name == "-k" || name == "--insecure")
        flag(), o.insecure = true;
      else if (name == "--force")
        flag(), o.force = true;
      else if (name == "--no-fail")
        flag(), o.no_fail = true;
      else if (name == "--tls")
        flag(), o.tls = true;
      else if (name == "--continue")
        flag(), o.resume = true;
      else if (name == "--compressed")
        flag(), o.compressed = true;
      else if (name == "-4" || name == "--ipv4")
        flag(), o.ip_family = AF_INET;
      else if (name == "-6" || name == "--ipv6")
        flag(), o.ip_family = AF_INET6;
      else if (name == "--retry-all-errors")
        flag(), o.retry_all_errors = true;
      else if (name == "-i" || name == "--include")
        flag(), o.include_head = true;
      else if (name == "--create-dirs")
        flag(), o.create_dirs = true;
      else if (name == "--http2")
        flag(), o.http2 = std::max(o.http2, ClientOptions::Http2::Alpn);
      else if (name == "--http2-prior-knowledge")
        flag(), o.http2 = ClientOptions::Http2::PriorKnowledge;
      else if (name == "--version")
        flag(), cmd.action = Command::Action::Version;
      else if (name == "--help" || (name == "-h" && !curl_like))
        flag(), cmd.action = Command::Action::Help;
      else if (name == "-C" || name == "--continue-at") {
        if (value(name, inline_value, has_inline) != "-")
          throw UsageError(std::string(name) +
                           ": only '-' (resume where the .part file ends) is supported");
        o.resume = true;
      } else if (name == "-X" || name == "--request") {
        std::string m = upper(value(name, inline_value, has_inline));
        for (char c : m)
          if (!http::chars::is_token(c)) throw UsageError("-X: not a method: '" + m + "'");
        o.method = m;
        method_given = true;
      } else if (name == "-H" || name == "--header" || (name == "-h" && curl_like)) {
        o.headers.push_back(parse_header(name, value(name, inline_value, has_inline)));
      } else if (name == "-d" || name == "--data" || name == "--data-urlencode" ||
                 name == "--json") {
        using Kind = ClientOptions::DataPart::Kind;
        const Kind kind = name == "--json"             ? Kind::Json
                          : name == "--data-urlencode" ? Kind::UrlEncode
                                                       : Kind::Raw;
        o.body = ClientOptions::Body::Data;
        o.data.push_back({kind, std::string(value(name, inline_value, has_inline))});
      } else if (name == "-F" || name == "--form") {
        const std::string_view f = value(name, inline_value, has_inline);
        if (f.find('=') == std::string_view::npos || f.front() == '=')
          throw UsageError(std::string(name) + ": expected NAME=VALUE, NAME=@FILE or NAME=<FILE");
        o.body = ClientOptions::Body::Form;
        o.form.emplace_back(f);
      } else if (name == "-G" || name == "--get") {
        flag();
        o.get_query = true;
      } else if (name == "-T" || name == "--upload-file" || name == "-f" || name == "--file") {
        std::string_view f = value(name, inline_value, has_inline);
        o.body = f == "-" ? ClientOptions::Body::Stdin : ClientOptions::Body::File;
        o.upload_file = std::string(f);
      } else if (name == "-o" || name == "--output") {
        outputs.push_back({std::string(value(name, inline_value, has_inline)), false});
      } else if (name == "--segments") {
        o.segments = parse_int(name, value(name, inline_value, has_inline), kMaxSegments);
        if (o.segments < 1) throw UsageError("--segments: expected 1 to 16");
      } else if (name == "--parallel-max") {
        o.parallel_max = parse_int(name, value(name, inline_value, has_inline), kMaxParallel);
        if (o.parallel_max < 1) throw UsageError("--parallel-max: expected 1 to 300");
      } else if (name == "--limit-rate") {
        o.limit_rate = parse_bytes(name, value(name, inline_value, has_inline));
      } else if (name == "--max-filesize") {
        o.max_filesize = parse_bytes(name, value(name, inline_value, has_inline));
      } else if (name == "-z" || name == "--time-cond") {
        o.time_cond = std::string(value(name, inline_value, has_inline));
        if (o.time_cond.empty() || o.time_cond == "-")
          throw UsageError(std::string(name) + ": expected a date or a file");
      } else if (name == "-x" || name == "--proxy") {
        o.proxy = std::string(value(name, inline_value, has_inline));
      } else if (name == "--noproxy") {
        o.noproxy = std::string(value(name, inline_value, has_inline));
      } else if (name == "-b" || name == "--cookie") {
        o.cookies.emplace_back(value(name, inline_value, has_inline));
      } else if (name == "-c" || name == "--cookie-jar") {
        o.cookie_jar = std::string(value(name, inline_value, has_inline));
        if (o.cookie_jar.empty()) throw UsageError(std::string(name) + ": expected a file name");
      } else if (name == "--etag-save") {
        o.etag_save = std::string(value(name, inline_value, has_inline));
        if (o.etag_save.empty()) throw UsageError("--etag-save: expected a file name");
      } else if (name == "--etag-compare") {
        o.etag_compare = std::string(value(name, inline_value, has_inline));
        if (o.etag_compare.empty()) throw UsageError("--etag-compare: expected a file name");
      } else if (name == "-w" || name == "--write-out") {
        o.write_out = std::string(value(name, inline_value, has_inline));
      } else if (name == "--output-dir") {
        o.output_dir = std::string(value(name, inline_value, has_inline));
        if (o.output_dir.empty()) throw UsageError("--output-dir: expected a directory");
      } else if (name == "-D" || name == "--dump-header") {
        o.dump_head = std::string(value(name, inline_value, has_inline));
        if (o.dump_head.empty()) throw UsageError(std::string(name) + ": expected a file name");
      } else if (name == "--max-time" || name == "-m") {
        o.max_time = parse_seconds(name, value(name, inline_value, has_inline));
      } else if (name == "--connect-timeout") {
        o.connect_timeout = parse_seconds(name, value(name, inline_value, has_inline));
      } else if (name == "--retry") {
        o.retries = parse_int(name, value(name, inline_value, has_inline), 100);
        o.retries_given = true;
      } else if (name == "--resumable") {
        const std::string_view m = value(name, inline_value, has_inline);
        if (m == "auto")
          o.resumable = ResumableMode::Auto;
        else if (m == "always")
          o.resumable = ResumableMode::Always;
        else if (m == "never")
          o.resumable = ResumableMode::Never;
        else
          throw UsageError("--resumable: expected always, never or auto, got '" + std::string(m) +
                           "'");
      } else if (name == "--max-redirs") {
        o.max_redirects = parse_int(name, value(name, inline_value, has_inline), 1000);
      } else if (name == "--cacert") {
        o.cacert = std::string(value(name, inline_value, has_inline));
      } else if (name == "-u" || name == "--user") {
        const std::string_view u = value(name, inline_value, has_inline);
        if (u.empty() || u.front() == ':')
          throw UsageError(std::string(name) + ": expected USER[:PASSWORD]");
        for (char c : u)
          if (c == '\r' || c == '\n' || c == '\0')
            throw UsageError(std::string(name) + ": credentials cannot hold CR, LF or NUL");
        o.user = std::string(u);
      } else if (name == "--netrc") {
        flag(), o.netrc = true;
      } else if (name == "--netrc-file") {
        o.netrc_file = std::string(value(name, inline_value, has_inline));
        if (o.netrc_file.empty()) throw UsageError("--netrc-file: expected a file name");
        o.netrc = true;
      } else {
        throw UsageError("unknown option " + std::string(name));
      }
    }
  }
};

std::string encode_positional_path(std::string_view file) {
  while (!file.empty() && file.front() == '/') file.remove_prefix(1);
  return "/" + http::percent_encode_path(file, /*keep_slash=*/true);
}

// Options that cannot go together, for one URL and its output.
void check_combinations(const ClientOptions& o) {
  if (o.mirror_delete && !o.mirror) throw UsageError("--delete goes with --mirror");
  if (o.get_query && o.body != ClientOptions::Body::Data && o.body != ClientOptions::Body::None)
    throw UsageError("-G puts -d data into the URL; it cannot go with -T or -F");
  if (!o.form.empty() && (o.body != ClientOptions::Body::Form || !o.data.empty()))
    throw UsageError("-F makes a multipart body; it cannot go with -d, --json or -T");
  // -C - continues a download into its .part file, or an upload of a file (-T FILE).
  const bool upload = o.body == ClientOptions::Body::File;
  if (o.resume && o.body == ClientOptions::Body::Stdin)
    throw UsageError("-C -: an upload from the standard input cannot be resumed");
  if (o.resume && upload && o.resumable == ResumableMode::Never)
    throw UsageError("-C - with -T resumes an upload; it cannot go with --resumable never");
  if (o.resume && !upload && o.output == "-")
    throw UsageError("-C - needs an output file, not stdout");
  if (o.resume && !upload && o.output.empty() && !o.remote_name)
    throw UsageError("-C - needs -o FILE or -O (or -T FILE to resume an upload)");
  if (o.header_name && (!o.remote_name || !o.output.empty()))
    throw UsageError("-J names the file of -O; use it with -O (and without -o)");
  if (o.header_name && o.resume)
    throw UsageError("-J with -C -: the name is known only from the answer");
  if (o.resume && !upload && o.include_head)
    throw UsageError("-i with -C -: a head would land in the middle of the file");
  if (o.segments > 1) {
    const bool to_file = (!o.output.empty() && o.output != "-") || o.remote_name;
    if (!to_file || o.method != "GET" || o.body != ClientOptions::Body::None || o.print_head)
      throw UsageError("--segments fetches a file: a GET with -o FILE or -O");
    if (o.include_head || o.compressed || o.limit_rate > 0)
      throw UsageError("--segments cannot go with -i, --compressed or --limit-rate");
  }
}

// Several URLs in one run: what cannot be done once per URL.
void check_several(const ClientOptions& o) {
  if (o.body == ClientOptions::Body::Stdin || o.body == ClientOptions::Body::File)
    throw UsageError("-T uploads to one URL; give one URL (or run httpc once per file)");
  for (const ClientOptions::DataPart& d : o.data)
    if (d.text == "@-" || d.text.ends_with("@-"))
      throw UsageError("the standard input can be read for one URL only");
  if (o.write_out == "@-") throw UsageError("-w @-: the standard input can be read once only");
  if (o.parallel) {
    int to_stdout = 0;
    for (const ClientOptions::Target& t : o.targets)
      to_stdout += (t.output.empty() && !t.remote_name) || t.output == "-" ? 1 : 0;
    if (to_stdout > 1)
      throw UsageError("-Z: at most one URL may write to the standard output; give -o or -O");
  }
}

}  // namespace

Command parse_command_line(int argc, const char* const* argv) {
  Parser p{argc, argv};
  ClientOptions& o = p.cmd.options;
  std::string_view first = argc > 1 ? argv[1] : "";
  const bool sub =
      first == "get" || first == "head" || first == "delete" || first == "post" || first == "put";
  if (first == "help") {
    p.cmd.action = Command::Action::Help;
    p.cmd.help_topic = argc > 2 ? argv[2] : "";
    if (argc > 3) throw UsageError("help takes at most one topic");
    return p.cmd;
  }
  if (sub) {
    p.curl_like = true;
    p.i = 2;
  }
  p.run();
  if (p.cmd.action != Command::Action::Run) return p.cmd;

  const bool positional_form = !sub && p.positional.size() == 4 && is_port(p.positional[1]) &&
                               is_method_word(p.positional[2]);
  if (sub || positional_form) p.apply_single_output();
  if (sub) {
    // cURL-like: the command is the method; the body prints to stdout.
    o.method = upper(first);
    if (o.method == "HEAD") o.print_head = true;
    if (p.positional.size() != 1) throw UsageError(std::string(first) + ": expected one URL");
    o.url = p.positional[0];
    const bool writes = o.method == "POST" || o.method == "PUT";
    if (writes && o.body == ClientOptions::Body::None)
      throw UsageError(std::string(first) + ": needs -d DATA or -f FILE");
    if (!writes && o.body != ClientOptions::Body::None)
      throw UsageError(std::string(first) + ": takes no body (-d or -f)");
  } else if (positional_form) {
    // Positional: HOST PORT METHOD FILE.
    const std::string& host = p.positional[0];
    const std::string port = p.positional[1];
    const std::string& file = p.positional[3];
    o.method = upper(p.positional[2]);
    const bool https = o.tls || port == "443";
    const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
    o.url = std::string(https ? "https" : "http") + "://" + (v6 ? "[" + host + "]" : host) + ":" +
            port + encode_positional_path(file);
    if (o.method == "GET") {
      if (o.output.empty()) {
        std::string base = file.substr(
            file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
        if (base.empty() || base == "." || base == "..")
          throw UsageError("GET " + file + ": no file name to save as; use -o FILE");
        o.output = base;
        o.no_clobber = true;
      }
    } else if (o.method == "PUT" || o.method == "POST") {
      if (o.body == ClientOptions::Body::None) {
        o.body = ClientOptions::Body::File;
        o.upload_file = file;
      }
      o.print_answer = true;
    } else if (o.method == "HEAD") {
      o.print_head = true;
    } else {
      o.print_answer = true;  // DELETE
    }
  } else {
    if (o.upload_tree) {
      // --upload-tree DIR URL: the files are found by walking DIR.
      if (p.positional.size() != 2 || !p.outputs.empty() || p.remote_name_all || o.mirror)
        throw UsageError("--upload-tree takes a local directory and a directory URL");
      if (p.method_given || o.body != ClientOptions::Body::None || o.segments > 1 ||
          !o.time_cond.empty() || o.include_head || o.header_name)
        throw UsageError(
            "--upload-tree sends files with PUT: no -X, -I, -d, -T, -F, -z, -i, "
            "-J or --segments");
      o.tree_dir = p.positional[0];
      o.url = p.positional[1];
      return p.cmd;
    }
    if (o.mirror) {
      // --mirror URL DIR: the files are found by walking the listings.
      if (p.positional.size() != 2 || !p.outputs.empty() || p.remote_name_all)
        throw UsageError("--mirror takes a directory URL and a local directory, and no -o or -O");
      if (p.method_given || o.body != ClientOptions::Body::None || o.segments > 1 || o.resume ||
          !o.time_cond.empty() || o.include_head || o.header_name)
        throw UsageError(
            "--mirror fetches files with GET: no -X, -I, -d, -T, -F, -C, -z, -i, "
            "-J or --segments");
      o.url = p.positional[0];
      o.mirror_dir = p.positional[1];
      return p.cmd;
    }
    // Plain: one URL or several, each paired with its output.
    if (p.positional.empty()) throw UsageError("no URL given");
    if (p.outputs.size() > p.positional.size()) throw UsageError("more -o/-O options than URLs");
    for (std::size_t i = 0; i < p.positional.size(); ++i) {
      ClientOptions::Target t{p.positional[i], "", p.remote_name_all};
      if (i < p.outputs.size()) std::tie(t.output, t.remote_name) = p.outputs[i];
      o.targets.push_back(std::move(t));
    }
    o.url = o.targets[0].url;
    o.output = o.targets[0].output;
    o.remote_name = o.targets[0].remote_name;
    if (!p.method_given) {
      if ((o.body == ClientOptions::Body::Data && !o.get_query) ||
          o.body == ClientOptions::Body::Form)
        o.method = "POST";
      else if (o.body == ClientOptions::Body::File || o.body == ClientOptions::Body::Stdin)
        o.method = "PUT";
    }
  }
  if (o.targets.size() > 1) check_several(o);
  for (const ClientOptions::Target& t : o.targets) {
    ClientOptions one = o;
    one.url = t.url, one.output = t.output, one.remote_name = t.remote_name;
    check_combinations(one);
  }
  if (o.targets.empty()) check_combinations(o);
  return p.cmd;
}

std::string help_text(const std::string& topic) {
  if (topic == "get")
    return "httpc get [-v] [-h K:V]... URL\n"
           "  Fetch URL and write the body to stdout (or -o FILE: saved as FILE.part, renamed\n"
           "  when complete). -h adds a request header, -v shows both heads on stderr.\n";
  if (topic == "head")
    return "httpc head [-v] [-h K:V]... URL\n"
           "  Send HEAD and print the response head to stdout.\n";
  if (topic == "delete")
    return "httpc delete [-v] [-h K:V]... URL\n"
           "  Send DELETE and print the answer's body to stdout.\n";
  if (topic == "post" || topic == "put")
    return "httpc " + topic +
           " [-v] [-h K:V]... (-d DATA | -f FILE) URL\n"
           "  Send DATA, or the content of FILE ('-' for stdin, sent chunked), as the body and\n"
           "  print the answer's body to stdout. Uploads over 1 MiB ask 'Expect: 100-continue'\n"
           "  first and send the body after the server's go-ahead (or after 1 s of silence).\n";
  if (topic == "exit-codes")
    return "Exit codes:\n"
           "   0  success (2xx, or any answer with --no-fail)\n"
           "   1  internal error\n"
           "   2  usage error\n"
           "   3  the host name did not resolve\n"
           "   4  the connection failed (refused, unreachable)\n"
           "   5  timeout (--connect-timeout, --max-time)\n"
           "   6  the answer was 4xx\n"
           "   7  the answer was 5xx\n"
           "   8  partial body: the answer ended early or its framing broke\n"
           "   9  a local file could not be read or written, or would be overwritten\n"
           "  10  integrity: a Content-Digest or Repr-Digest the server sent does not match\n"
           "  11  protocol error: not valid HTTP, a content coding that cannot be decoded\n"
           "      (--compressed), or too many redirects\n"
           "  12  TLS: the handshake failed (no common protocol, not TLS, closed midway)\n"
           "  13  TLS: the server's certificate is not trusted (see --cacert, -k)\n"
           "  14  TLS: the server's certificate expired or is not valid yet\n"
           "  15  TLS: the server's certificate is for another host name\n"
           "  16  the answer is larger than --max-filesize\n"
           "With several URLs the run's code is the first failure's (in the order the URLs\n"
           "were given), and each failure gets a summary line at the end.\n";
  if (topic == "options" || topic.empty()) {
    std::string s =
        std::string(kUsageText) +
        "\n"
        "Options:\n"
        "  -X, --request METHOD    the method (default GET; POST with -d, PUT with -T)\n"
        "  -H, --header 'K: V'     add a request header (repeatable)\n"
        "  -d, --data DATA         send DATA as the body (@FILE: the file's, without CR and\n"
        "                          LF; @-: stdin); several are joined with '&'\n"
        "      --data-urlencode X  DATA, NAME=DATA, @FILE or NAME@FILE, percent-encoded\n"
        "      --json DATA         JSON (or @FILE) as the body, with Content-Type and Accept\n"
        "                          application/json\n"
        "  -G, --get               the data into the URL's query instead, with GET\n"
        "  -F, --form NAME=VALUE   a multipart/form-data field (POST): NAME=@FILE a file,\n"
        "                          streamed from disk; NAME=<FILE the file's text;\n"
        "                          ;type=MIME and ;filename=NAME after it (repeatable)\n"
        "  -T, --upload-file FILE  send FILE as the body; '-' reads stdin (chunked)\n"
        "  -o, --output FILE       write the body to FILE ('-': stdout); FILE.part until complete\n"
        "  -O, --remote-name       write the body to a file named like the URL's last segment\n"
        "  -J, --remote-header-name  with -O: the name the answer's Content-Disposition\n"
        "                          offers (its last path component; not hidden, not a device\n"
        "                          name; else the URL's), never replacing a file\n"
        "      --output-dir DIR    the directory of -O names and relative -o files\n"
        "      --remote-name-all   -O for every URL that has no -o or -O of its own\n"
        "      --mirror URL DIR    the tree under the directory URL into DIR: httpfs's JSON\n"
        "                          listings or HTML index pages, only what changed (-Z)\n"
        "      --delete            with --mirror: remove local files the server no longer has\n"
        "      --upload-tree DIR URL  every file under DIR to the directory URL: MKCOL for\n"
        "                          its directories (WebDAV), PUT for its files (-Z, -C -)\n"
        "      --segments N        fetch a file as N ranges over N connections at once\n"
        "                          (up to 16; -C - continues each after a crash)\n"
        "  -Z, --parallel          several URLs at once (each with its own -o or -O)\n"
        "      --parallel-max N    at most N transfers at a time with -Z (default 50, max 300)\n"
        "      --create-dirs       make the output file's missing directories (mode 0750)\n"
        "  -i, --include           write the answer's head before its body (with -L, each\n"
        "                          redirect's head too)\n"
        "  -D, --dump-header FILE  write every head received to FILE ('-': stdout)\n"
        "  -w, --write-out FORMAT  print FORMAT when done, with curl's variables: %{http_code}\n"
        "                          %{size_download} %{time_total} %{speed_download}\n"
        "                          %{url_effective} %{num_redirects} %{content_type}\n"
        "                          %{exitcode} %{errormsg} %{json} %header{NAME} ...;\n"
        "                          @FILE reads FORMAT from FILE (@- from stdin)\n"
        "  -C -, --continue        resume FILE.part with Range and If-Range; with -T FILE,\n"
        "                          continue the upload an earlier run left unfinished\n"
        "      --resumable MODE    uploads of files offer resumption (draft-ietf-httpbis-\n"
        "                          resumable-upload): always, never, or auto (8 MiB and up;\n"
        "                          the default). A cut upload continues where the server's\n"
        "                          offset says, up to --retry times (default 5)\n"
        "      --compressed        ask for a compressed answer (Accept-Encoding: zstd, gzip,\n"
        "                          br) and decode it; Content-Length and Content-Digest are\n"
        "                          of the coded bytes. A resume (-C -) asks for no coding\n"
        "      --http2             HTTP/2 over TLS when the server offers it by ALPN (else\n"
        "                          HTTP/1.1); -v says which\n"
        "      --http2-prior-knowledge  HTTP/2 from the first byte on plain http:// too\n"
        "                          (standard-input bodies, -T -, go over HTTP/1.1)\n"
        "      --force             replace an existing file (the positional GET refuses)\n"
        "  -L, --location          follow redirects (at most --max-redirs, default 10)\n"
        "  -I, --head              send HEAD and print the response head\n"
        "  -v, --verbose           show the request and response heads on stderr\n"
        "  -s, --silent            no progress bar, no error lines\n"
        "      --max-time S        give up after S seconds in all (default: never)\n"
        "      --connect-timeout S per address tried (default 10)\n"
        "      --retry N           retry a failed connection or a 408/429/5xx answer N times,\n"
        "                          waiting as Retry-After says (else 1 s, 2 s, 4 s, ...)\n"
        "      --no-fail           exit 0 whatever the status\n"
        "      --tls               positional form: use https (also when the port is 443)\n"
        "  -u, --user USER[:PASS]  Basic credentials for the URL's origin (never sent to\n"
        "                          another after a redirect); without :PASS, the netrc\n"
        "                          file's password for USER, else asked on the terminal\n"
        "      --netrc             credentials for the host from ~/.netrc (curl's format)\n"
        "      --netrc-file FILE   ... from FILE\n"
        "  -4, --ipv4 / -6, --ipv6 connect over IPv4 (or IPv6) addresses only\n"
        "      --limit-rate RATE   read answers at RATE bytes a second on average (k, M, G\n"
        "                          suffixes); over HTTP/1.1\n"
        "      --max-filesize SIZE refuse an answer larger than SIZE (k, M, G): before its\n"
        "                          body when its length is known, else as it arrives (exit 16)\n"
        "  -z, --time-cond WHEN    If-Modified-Since WHEN (an HTTP date, or a file's mtime);\n"
        "                          '-WHEN' for If-Unmodified-Since. A 304 writes nothing\n"
        "  -x, --proxy URL         through the HTTP proxy [http://][USER:PASS@]HOST[:PORT]\n"
        "                          (port 1080 by default; '' for none): http URLs asked of\n"
        "                          it, https ones through a CONNECT tunnel. Without -x:\n"
        "                          http_proxy, https_proxy, all_proxy, as curl reads them\n"
        "      --noproxy LIST      hosts to reach directly (as no_proxy: suffixes, *, IPs,\n"
        "                          host:port)\n"
        "  -b, --cookie DATA|FILE  send 'NAME=VALUE; ...' to the URL's origin, or read a\n"
        "                          Netscape cookie file; cookies received are sent back\n"
        "                          where they belong for the rest of the run\n"
        "  -c, --cookie-jar FILE   write every cookie to FILE when done ('-': stdout)\n"
        "      --etag-save FILE    keep the answer's ETag in FILE\n"
        "      --etag-compare FILE send If-None-Match with the ETag kept in FILE\n"
        "      --retry-all-errors  --retry covers every failure, 4xx answers included\n"
        "  -k, --insecure          do not verify the server's certificate\n"
        "      --cacert FILE       trust the CA certificates in FILE\n"
        "      --version           print the version\n"
        "\n"
        "The positional GET saves FILE's base name in the current directory and refuses to\n"
        "replace an existing file without --force; -o overrides the name, -o - writes\n"
        "stdout. Binary output is not written to a terminal unless asked for with -o -.\n"
        "See 'httpc help exit-codes'.\n";
    return s;
  }
  throw UsageError("no help on '" + topic +
                   "' (topics: get head delete post put options exit-codes)");
}

}  // namespace httpfs::client
