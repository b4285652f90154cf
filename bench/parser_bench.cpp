// Request-parser throughput: httpfs::http::RequestParser (+ BodyDecoder for chunked bodies)
// against nodejs/http-parser (Debian's libhttp-parser-dev) on the same realistic inputs.
//
// Both parsers do what a server needs: find method, target and every header (http-parser
// through callbacks that record the spans, as its users do), and decode the chunked body.
// httpfs's parser validates strictly more (field-value bytes, Host, framing conflicts).
//
// Output: one Markdown table row per input, the best of ROUNDS interleaved rounds, and the
// ratio. Usage: parser_bench [ROUNDS [SECONDS_PER_ROUND]]
#include <http_parser.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/request_parser.hpp"

namespace {

struct Input {
  const char* name;
  std::string bytes;
};

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

std::string put_chunked() {
  return "PUT /uploads/data.csv HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
         "Accept: */*\r\nTransfer-Encoding: chunked\r\nContent-Type: text/csv\r\n"
         "Expect: 100-continue\r\n\r\n" +
         chunk("id,name,size,mtime\n1,alpha,1024,1700000000\n2,beta,2048,1700000100\n") +
         chunk("3,gamma,4096,1700000200\n4,delta,8192,1700000300\n") + "0\r\n\r\n";
}

std::vector<Input> inputs() {
  return {
      {"browser GET",
       "GET /assets/js/app.4f3c2a.min.js?v=1718 HTTP/1.1\r\n"
       "Host: www.example.com\r\n"
       "Connection: keep-alive\r\n"
       "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", "
       "\"Not-A.Brand\";v=\"99\"\r\n"
       "sec-ch-ua-mobile: ?0\r\n"
       "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36\r\n"
       "sec-ch-ua-platform: \"Linux\"\r\n"
       "Accept: */*\r\n"
       "Sec-Fetch-Site: same-origin\r\n"
       "Sec-Fetch-Mode: no-cors\r\n"
       "Sec-Fetch-Dest: script\r\n"
       "Referer: https://www.example.com/articles/2024/05/how-to-serve-files\r\n"
       "Accept-Encoding: gzip, deflate, br, zstd\r\n"
       "Accept-Language: en-GB,en-US;q=0.9,en;q=0.8,fr;q=0.7\r\n"
       "Cookie: _ga=GA1.2.1234567890.1700000000; "
       "session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
       "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U; theme=dark\r\n"
       "If-None-Match: \"65f1c2a4-3b2c\"\r\n"
       "If-Modified-Since: Wed, 13 Mar 2024 10:15:32 GMT\r\n\r\n"},
      {"curl GET",
       "GET /files/report.pdf HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
       "Accept: */*\r\n\r\n"},
      {"wrk GET", "GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"},
      {"PUT chunked", put_chunked()},
  };
}

// ---- httpfs
volatile std::size_t g_sink = 0;

bool parse_httpfs(httpfs::http::RequestParser& p, const std::string& in) {
  using namespace httpfs::http;
  p.reset();
  if (p.parse(in) != RequestParser::Result::Complete) return false;
  const RequestHead& h = p.head();
  std::size_t sink = h.headers.size() + h.target.size();
  if (h.framing == BodyFraming::Chunked) {
    BodyDecoder d = BodyDecoder::chunked();
    std::string_view rest = std::string_view(in).substr(h.head_size);
    while (!rest.empty() && !d.done()) {
      BodyDecoder::Step s = d.decode(rest);
      if (d.failed()) return false;
      sink += s.data.size();
      rest.remove_prefix(s.consumed);
    }
    if (!d.done()) return false;
  }
  g_sink = g_sink + sink;
  return true;
}

// ---- http-parser, with the callbacks a server would register
struct Span {
  const char* p;
  std::size_t n;
};
struct HpState {
  Span url{};
  Span fields[128];
  Span values[128];
  int nfields = 0;
  bool last_was_value = true;
  std::size_t body = 0;
  bool done = false;
};

int on_url(http_parser* p, const char* at, std::size_t n) {
  static_cast<HpState*>(p->data)->url = {at, n};
  return 0;
}
int on_field(http_parser* p, const char* at, std::size_t n) {
  auto* s = static_cast<HpState*>(p->data);
  if (s->last_was_value) s->fields[s->nfields++ & 127] = {at, n};
  s->last_was_value = false;
  return 0;
}
int on_value(http_parser* p, const char* at, std::size_t n) {
  auto* s = static_cast<HpState*>(p->data);
  s->values[(s->nfields - 1) & 127] = {at, n};
  s->last_was_value = true;
  return 0;
}
int on_body(http_parser* p, const char*, std::size_t n) {
  static_cast<HpState*>(p->data)->body += n;
  return 0;
}
int on_complete(http_parser* p) {
  static_cast<HpState*>(p->data)->done = true;
  return 0;
}

http_parser_settings hp_settings() {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_url = on_url;
  s.on_header_field = on_field;
  s.on_header_value = on_value;
  s.on_body = on_body;
  s.on_message_complete = on_complete;
  return s;
}

bool parse_hp(const http_parser_settings& settings, const std::string& in) {
  http_parser p;
  HpState st;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = &st;
  std::size_t n = http_parser_execute(&p, &settings, in.data(), in.size());
  if (n != in.size() || p.http_errno != HPE_OK || !st.done) return false;
  g_sink = g_sink + static_cast<std::size_t>(st.nfields) + st.url.n + st.body;
  return true;
}

template <typename Fn>
double per_second(Fn&& fn, double seconds) {
  using clock = std::chrono::steady_clock;
  std::size_t iterations = 0;
  auto start = clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  clock::time_point now;
  do {
    for (int i = 0; i < 1000; ++i) fn();
    iterations += 1000;
    now = clock::now();
  } while (now < deadline);
  return static_cast<double>(iterations) / std::chrono::duration<double>(now - start).count();
}

// Best of the rounds: on a shared machine, noise only ever slows a round down.
double best(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}

}  // namespace

int main(int argc, char** argv) {
  httpfs::http::RequestParser parser;
  const http_parser_settings settings = hp_settings();
  // "--count PARSER INPUT N": parse one input N times and exit, for instruction counting
  // under callgrind (bench/parser.sh).
  if (argc == 5 && std::strcmp(argv[1], "--count") == 0) {
    const bool ours = std::strcmp(argv[2], "httpfs") == 0;
    const std::vector<Input> all = inputs();
    const Input& in = all.at(static_cast<std::size_t>(std::atoi(argv[3])));
    const long n = std::atol(argv[4]);
    for (long i = 0; i < n; ++i)
      if (!(ours ? parse_httpfs(parser, in.bytes) : parse_hp(settings, in.bytes))) return 1;
    return 0;
  }
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 0.3;

  std::printf(
      "| input | bytes | httpfs req/s | httpfs MB/s | http-parser req/s | http-parser MB/s | ratio "
      "|\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  double log_sum = 0;
  int n_inputs = 0;
  for (const Input& in : inputs()) {
    if (!parse_httpfs(parser, in.bytes) || !parse_hp(settings, in.bytes)) {
      std::fprintf(stderr, "input '%s' does not parse\n", in.name);
      return 1;
    }
    std::vector<double> ours, theirs;
    for (int r = 0; r < rounds; ++r) {  // interleaved rounds: both see the same machine state
      ours.push_back(per_second([&] { parse_httpfs(parser, in.bytes); }, seconds));
      theirs.push_back(per_second([&] { parse_hp(settings, in.bytes); }, seconds));
    }
    double a = best(ours), b = best(theirs);
    double mb = static_cast<double>(in.bytes.size()) / 1e6;
    std::printf("| %s | %zu | %.0f | %.0f | %.0f | %.0f | %.2fx |\n", in.name, in.bytes.size(), a,
                a * mb, b, b * mb, a / b);
    log_sum += std::log(a / b);
    ++n_inputs;
  }
  std::printf("\nGeometric mean of the ratios: %.2fx\n", std::exp(log_sum / n_inputs));
  return 0;
}
