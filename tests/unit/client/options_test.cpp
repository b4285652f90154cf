#include "client/options.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <vector>

using namespace httpfs::client;

namespace {

Command parse(std::vector<const char*> args) {
  args.insert(args.begin(), "httpc");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("the three forms") {
  auto p = parse({"example.com", "8080", "GET", "dir/file name.txt"}).options;
  CHECK(p.url == "http://example.com:8080/dir/file%20name.txt");
  CHECK(p.output == "file name.txt");
  CHECK(p.no_clobber);
  p = parse({"::1", "443", "put", "up.bin"}).options;
  CHECK(p.url == "https://[::1]:443/up.bin");
  CHECK(p.method == "PUT");
  CHECK(p.upload_file == "up.bin");
  CHECK(p.print_answer);
  p = parse({"--tls", "h", "8443", "HEAD", "x"}).options;
  CHECK(p.url.rfind("https://", 0) == 0);
  CHECK(p.print_head);

  auto c = parse({"post", "-v", "-h", "X-A:1", "-h", "X-B: 2", "-d", "data", "http://h/"}).options;
  CHECK(c.method == "POST");
  CHECK(c.verbose);
  CHECK(c.headers.size() == 2);
  CHECK(c.headers[1].second == "2");
  CHECK(c.body == ClientOptions::Body::Data);
  CHECK(parse({"put", "-f", "-", "http://h/"}).options.body == ClientOptions::Body::Stdin);
  CHECK(parse({"help"}).action == Command::Action::Help);
  CHECK(parse({"help", "get"}).help_topic == "get");

  auto g =
      parse({"-XDELETE", "-H", "A: b", "-L", "--max-time", "2.5", "--retry=3", "-s", "http://h/x"})
          .options;
  CHECK(g.method == "DELETE");
  CHECK(g.follow);
  CHECK(g.max_time == 2.5);
  CHECK(g.retries == 3);
  CHECK(g.silent);
  CHECK(parse({"-d", "x", "http://h/"}).options.method == "POST");
  CHECK(parse({"-T", "f", "http://h/"}).options.method == "PUT");
  CHECK(parse({"-I", "http://h/"}).options.method == "HEAD");
  CHECK(parse({"-C", "-", "-o", "f", "http://h/"}).options.resume);
  CHECK(parse({"-h"}).action == Command::Action::Help);  // help in the plain form
}

TEST_CASE("resumable uploads: --resumable, and -C - with -T FILE") {
  CHECK(parse({"-T", "f", "http://h/"}).options.resumable == ResumableMode::Auto);
  CHECK(parse({"--resumable", "always", "-T", "f", "http://h/"}).options.resumable ==
        ResumableMode::Always);
  CHECK(parse({"--resumable=never", "-T", "f", "http://h/"}).options.resumable ==
        ResumableMode::Never);
  const ClientOptions o = parse({"-C", "-", "-T", "f", "http://h/"}).options;
  CHECK(o.resume);
  CHECK(o.body == ClientOptions::Body::File);
  CHECK_FALSE(o.retries_given);
  CHECK(parse({"--retry", "2", "-T", "f", "http://h/"}).options.retries_given);
}

TEST_CASE("bad command lines") {
  for (std::vector<const char*> bad : {std::vector<const char*>{},
                                       {"-Q", "http://h/"},
                                       {"-H", "bad", "http://h/"},
                                       {"-H", "A: b\r\nC: d", "http://h/"},
                                       {"get"},
                                       {"get", "http://a/", "http://b/"},
                                       {"put", "http://h/"},
                                       {"delete", "-d", "x", "http://h/"},
                                       {"-C", "10", "-o", "f", "http://h/"},
                                       {"-C", "-", "http://h/"},
                                       {"-C", "-", "-T", "-", "http://h/"},
                                       {"-C", "-", "--resumable", "never", "-T", "f", "http://h/"},
                                       {"--resumable", "maybe", "-T", "f", "http://h/"},
                                       {"--max-time", "-1", "http://h/"},
                                       {"-X", "G E T", "http://h/"},
                                       {"h", "8080", "GET", "dir/"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
  CHECK_THROWS_AS(help_text("nothing"), UsageError);
}

TEST_CASE("--compressed: a flag of every form, off by default") {
  CHECK_FALSE(parse({"http://h/"}).options.compressed);
  CHECK(parse({"--compressed", "http://h/"}).options.compressed);
  CHECK(parse({"get", "--compressed", "http://h/"}).options.compressed);
  CHECK(parse({"--compressed", "h", "8080", "GET", "f"}).options.compressed);
  // With -C - too: the resumed request then asks for no coding (client/session.cpp).
  const ClientOptions o = parse({"--compressed", "-C", "-", "-o", "f", "http://h/"}).options;
  CHECK(o.compressed);
  CHECK(o.resume);
  CHECK_THROWS_AS(parse({"--compressed=gzip", "http://h/"}), UsageError);
  CHECK(help_text("options").find("--compressed") != std::string::npos);
}

TEST_CASE("--http2 and --http2-prior-knowledge: off by default; prior knowledge wins") {
  using H = ClientOptions::Http2;
  CHECK(parse({"http://h/"}).options.http2 == H::Off);
  CHECK(parse({"--http2", "https://h/"}).options.http2 == H::Alpn);
  CHECK(parse({"--http2-prior-knowledge", "http://h/"}).options.http2 == H::PriorKnowledge);
  CHECK(parse({"--http2-prior-knowledge", "--http2", "http://h/"}).options.http2 ==
        H::PriorKnowledge);
  CHECK(help_text("").find("--http2-prior-knowledge") != std::string::npos);
}

TEST_CASE("-u, --netrc and --netrc-file") {
  const ClientOptions none = parse({"http://h/"}).options;
  CHECK_FALSE(none.user.has_value());
  CHECK_FALSE(none.netrc);
  CHECK(parse({"-u", "ann:se:cret", "http://h/"}).options.user == "ann:se:cret");
  CHECK(parse({"--user=ann", "http://h/"}).options.user == "ann");
  CHECK(parse({"get", "-u", "ann:pw", "http://h/"}).options.user == "ann:pw");
  CHECK(parse({"--netrc", "http://h/"}).options.netrc);
  CHECK(parse({"--netrc", "http://h/"}).options.netrc_file.empty());
  const ClientOptions f = parse({"--netrc-file", "/tmp/n", "http://h/"}).options;
  CHECK(f.netrc);
  CHECK(f.netrc_file == "/tmp/n");
  for (std::vector<const char*> bad : {std::vector<const char*>{"-u", "", "http://h/"},
                                       {"-u", ":pw", "http://h/"},
                                       {"-u", "a\nb:c", "http://h/"},
                                       {"--netrc-file", "", "http://h/"},
                                       {"--netrc=x", "http://h/"},
                                       {"-u"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
  CHECK(help_text("").find("--netrc-file") != std::string::npos);
}

TEST_CASE("-i, -D, --output-dir and --create-dirs") {
  const ClientOptions none = parse({"http://h/"}).options;
  CHECK_FALSE(none.include_head);
  CHECK(none.dump_head.empty());
  CHECK(none.output_dir.empty());
  CHECK_FALSE(none.create_dirs);
  const ClientOptions o =
      parse({"-i", "-D", "h.txt", "--output-dir", "d", "--create-dirs", "-O", "http://h/f"})
          .options;
  CHECK(o.include_head);
  CHECK(o.dump_head == "h.txt");
  CHECK(o.output_dir == "d");
  CHECK(o.create_dirs);
  CHECK(parse({"--dump-header=-", "http://h/"}).options.dump_head == "-");
  for (std::vector<const char*> bad : {std::vector<const char*>{"-D", "", "http://h/"},
                                       {"--output-dir", "", "http://h/"},
                                       {"-i", "-C", "-", "-o", "f", "http://h/"},
                                       {"--include=1", "http://h/"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
}

TEST_CASE("-d, --data-urlencode and --json are kept in order; -G makes a GET") {
  using Kind = ClientOptions::DataPart::Kind;
  const ClientOptions o =
      parse({"-d", "a=1", "--data-urlencode", "q=x y", "--json", "{}", "http://h/"}).options;
  REQUIRE(o.data.size() == 3);
  CHECK(o.data[0].kind == Kind::Raw);
  CHECK(o.data[1].kind == Kind::UrlEncode);
  CHECK(o.data[1].text == "q=x y");
  CHECK(o.data[2].kind == Kind::Json);
  CHECK(o.method == "POST");
  const ClientOptions g = parse({"-G", "-d", "a=1", "http://h/"}).options;
  CHECK(g.get_query);
  CHECK(g.method == "GET");
  CHECK(parse({"-G", "-I", "-d", "a=1", "http://h/"}).options.method == "HEAD");
  CHECK_THROWS_AS(parse({"-G", "-T", "f", "http://h/"}), UsageError);
}

TEST_CASE("-J goes with -O, not with -o or -C -") {
  CHECK(parse({"-O", "-J", "http://h/f"}).options.header_name);
  CHECK_FALSE(parse({"-O", "http://h/f"}).options.header_name);
  for (std::vector<const char*> bad : {std::vector<const char*>{"-J", "http://h/f"},
                                       {"-J", "-o", "x", "http://h/f"},
                                       {"-O", "-J", "-o", "x", "http://h/f"},
                                       {"-O", "-J", "-C", "-", "http://h/f"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
}

TEST_CASE("-4, -6, --max-filesize, -z, --etag-*, --retry-all-errors") {
  const ClientOptions none = parse({"http://h/"}).options;
  CHECK(none.ip_family == 0);
  CHECK(none.max_filesize == 0);
  CHECK_FALSE(none.retry_all_errors);
  CHECK(parse({"-4", "http://h/"}).options.ip_family == AF_INET);
  CHECK(parse({"-6", "http://h/"}).options.ip_family == AF_INET6);
  CHECK(parse({"--max-filesize", "100", "http://h/"}).options.max_filesize == 100);
  CHECK(parse({"--max-filesize", "2k", "http://h/"}).options.max_filesize == 2048);
  CHECK(parse({"--max-filesize", "3M", "http://h/"}).options.max_filesize == 3 << 20);
  CHECK(parse({"--max-filesize", "1G", "http://h/"}).options.max_filesize == 1ull << 30);
  CHECK(parse({"-z", "-file", "http://h/"}).options.time_cond == "-file");
  const ClientOptions e =
      parse({"--etag-save", "s", "--etag-compare", "c", "--retry-all-errors", "http://h/"}).options;
  CHECK(e.etag_save == "s");
  CHECK(e.etag_compare == "c");
  CHECK(e.retry_all_errors);
  for (std::vector<const char*> bad : {std::vector<const char*>{"--max-filesize", "0", "http://h/"},
                                       {"--max-filesize", "1T", "http://h/"},
                                       {"--max-filesize", "k", "http://h/"},
                                       {"--max-filesize", "99999999999G", "http://h/"},
                                       {"-z", "-", "http://h/"},
                                       {"--etag-save", "", "http://h/"},
                                       {"-4=x", "http://h/"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
  CHECK(help_text("exit-codes").find("16  the answer is larger than --max-filesize") !=
        std::string::npos);
}

TEST_CASE("--limit-rate takes a rate with k, M or G") {
  CHECK(parse({"http://h/"}).options.limit_rate == 0);
  CHECK(parse({"--limit-rate", "100k", "http://h/"}).options.limit_rate == 100 << 10);
  CHECK_THROWS_AS(parse({"--limit-rate", "0", "http://h/"}), UsageError);
  CHECK_THROWS_AS(parse({"--limit-rate", "fast", "http://h/"}), UsageError);
}

TEST_CASE("several URLs: the n-th -o or -O pairs with the n-th URL, as curl pairs them") {
  using Target = ClientOptions::Target;
  auto targets = [](std::vector<const char*> args) {
    std::vector<std::string> out;
    for (const Target& t : parse(std::move(args)).options.targets)
      out.push_back(t.url + ">" + (t.remote_name ? "-O" : t.output));
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(targets({"http://h/a"}) == V{"http://h/a>"});
  CHECK(targets({"-o", "x", "http://h/a", "http://h/b"}) == V{"http://h/a>x", "http://h/b>"});
  // Position does not matter, order does: the outputs go to the URLs in turn.
  CHECK(targets({"http://h/a", "http://h/b", "-O", "-o", "y"}) ==
        V{"http://h/a>-O", "http://h/b>y"});
  CHECK(targets({"--remote-name-all", "http://h/a", "-o", "z", "http://h/b"}) ==
        V{"http://h/a>z", "http://h/b>-O"});
  const ClientOptions one = parse({"-O", "http://h/a"}).options;
  CHECK(one.url == "http://h/a");
  CHECK(one.remote_name);
  CHECK(parse({"-Z", "--parallel-max", "7", "-O", "http://h/a", "-O", "http://h/b"})
            .options.parallel_max == 7);
  CHECK(parse({"-Z", "-O", "http://h/a", "-O", "http://h/b"}).options.parallel);
  CHECK_THROWS_AS(parse({"-o", "a", "-o", "b", "http://h/"}), UsageError);
  CHECK_THROWS_AS(parse({"get", "-o", "a", "-o", "b", "http://h/"}), UsageError);
  CHECK_THROWS_AS(parse({"-Z", "http://h/a", "http://h/b"}), UsageError);  // two to stdout
  CHECK_THROWS_AS(parse({"-Z", "--parallel-max", "0", "http://h/a"}), UsageError);
  CHECK_THROWS_AS(parse({"-T", "f", "http://h/a", "http://h/b"}), UsageError);
  CHECK_THROWS_AS(parse({"--data-urlencode", "n@-", "http://h/a", "http://h/b"}), UsageError);
  // -C - needs a file for each URL.
  CHECK_THROWS_AS(parse({"-C", "-", "-o", "a", "http://h/a", "http://h/b"}), UsageError);
  CHECK_NOTHROW(parse({"-C", "-", "--remote-name-all", "http://h/a", "http://h/b"}));
}
