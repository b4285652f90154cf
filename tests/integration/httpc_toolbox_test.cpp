// httpc's curl toolbox, with curl as the oracle: the same server, the same flags, the same
// outcome (or, where httpc is stricter on purpose, the difference asserted): credentials
// (-u, --netrc), request bodies (-d, --data-urlencode, --json, -G), output (-i, -D, -w, -J,
// --output-dir, --create-dirs), conditions (-z, --etag-*), limits and retries.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "support/test_pki.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

RunResult httpc(std::vector<std::string> args, std::optional<std::string> stdin_data = {}) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 60s, std::move(stdin_data));
}

// What a run came to: "ok" (2xx, its body), "refused" (4xx), or "error N" (anything else).
std::string outcome_httpc(const RunResult& r) {
  if (r.status == 0) return "ok " + r.out;
  if (r.status == 6) return "refused";
  return "error " + std::to_string(r.status) + ": " + r.err;
}
std::string outcome_curl(const RunResult& r) {
  if (r.status == 0) return "ok " + r.out;
  if (r.status == 22) return "refused";  // -f: an HTTP error
  return "error " + std::to_string(r.status) + ": " + r.err;
}

std::string ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("-u and --netrc-file open what curl's same flags open, and nothing else") {
  TempDir root, files;
  root.write("secret.txt", "behind the password");
  ServerProcess server(root.path(), {"--auth", "ann:s3cret", "--auth-all"});
  const std::string url = server.url("/secret.txt");
  auto netrc = [&](const std::string& name, const std::string& text) {
    files.write(name, text);
    return files / name;
  };
  struct Case {
    const char* what;
    std::vector<std::string> flags;
    const char* want;  // "ok" or "refused"
  };
  const std::vector<Case> cases = {
      {"no credentials", {}, "refused"},
      {"-u USER:PASS", {"-u", "ann:s3cret"}, "ok"},
      {"a wrong password", {"-u", "ann:wrong"}, "refused"},
      {"another user", {"-u", "bob:s3cret"}, "refused"},
      {"the machine's entry",
       {"--netrc-file", netrc("m", "machine 127.0.0.1 login ann password s3cret\n")},
       "ok"},
      {"another machine's entry only",
       {"--netrc-file", netrc("o", "machine other.example login ann password s3cret\n")},
       "refused"},
      {"the default entry",
       {"--netrc-file",
        netrc("d", "machine other.example login x password y\ndefault login ann password s3cret")},
       "ok"},
      {"quoted tokens, several lines, a macro skipped",
       {"--netrc-file", netrc("q",
                              "macdef init\nmachine 127.0.0.1 login ann password wrong\n\n"
                              "machine 127.0.0.1\n  login \"ann\"\n  password \"s3cret\"\n")},
       "ok"},
      {"-u USER:PASS wins over the file",
       {"-u", "ann:wrong", "--netrc-file",
        netrc("w", "machine 127.0.0.1 login ann password s3cret\n")},
       "refused"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::vector<std::string> h = c.flags, k = c.flags;
    h.push_back(url);
    k.insert(k.begin(), "-sf");
    k.push_back(url);
    const std::string mine = outcome_httpc(httpc(h));
    const std::string curls = outcome_curl(curl(k));
    CHECK(mine == curls);
    CHECK(mine.starts_with(c.want));
    if (mine.starts_with("ok")) CHECK(mine == "ok behind the password");
  }
  // -H Authorization is sent as given: -u does not add a second one.
  const std::string good = "Authorization: Basic YW5uOnMzY3JldA==";  // ann:s3cret
  CHECK(outcome_httpc(httpc({"-H", good, "-u", "ann:wrong", url})) == "ok behind the password");
  // A netrc file named that cannot be read is an error of its own (not a silent 401).
  RunResult r = httpc({"--netrc-file", files / "missing", url});
  CHECK(r.status == 9);
  CHECK(r.err.find("cannot read") != std::string::npos);
  // --netrc reads $HOME/.netrc; without one it goes on without credentials.
  TempDir home;
  r = run({"/usr/bin/env", "HOME=" + home.path(), binary("httpc"), "--netrc", url}, 60s);
  CHECK(r.status == 6);
  home.write(".netrc", "machine 127.0.0.1 login ann password s3cret\n");
  r = run({"/usr/bin/env", "HOME=" + home.path(), binary("httpc"), "--netrc", url}, 60s);
  CHECK(r.status == 0);
  CHECK(r.out == "behind the password");
  CHECK(server.stop() == 0);
}

TEST_CASE("-u USER alone asks for the password on the terminal, never echoing it") {
  TempDir root;
  root.write("secret.txt", "behind the password");
  ServerProcess server(root.path(), {"--auth", "ann:s3cret", "--auth-all"});
  const std::string url = server.url("/secret.txt");
  // On a pseudo-terminal, the password typed once the prompt is there (python3's pty).
  const std::string typist = R"(
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while b"password" not in out:
    out += os.read(fd, 4096)
os.write(fd, b"s3cret\n")
try:
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
)";
  RunResult r = run({"/usr/bin/python3", "-c", typist, binary("httpc"), "-u", "ann", url}, 60s);
  CHECK(r.status == 0);
  CHECK(r.out.find("Enter host password for user 'ann':") != std::string::npos);
  CHECK(r.out.find("behind the password") != std::string::npos);
  CHECK(r.out.find("s3cret") == std::string::npos);  // not echoed
  // Without a terminal (a new session has none): a clear error, nothing sent.
  r = run({"/usr/bin/setsid", "-w", binary("httpc"), "-u", "ann", url}, 60s);
  CHECK(r.status == 2);
  CHECK(r.err.find("no terminal to ask for it") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("credentials from -u and --netrc never follow a redirect to another origin") {
  ScriptedServer other([](const ReceivedRequest& req, int) {
    return ScriptedReply::bytes(ok("auth=" + req.header("Authorization")));
  });
  ScriptedServer first([&](const ReceivedRequest& req, int) {
    if (req.target == "/same")
      return ScriptedReply::bytes(ok("auth=" + req.header("Authorization")));
    if (req.target == "/here")
      return ScriptedReply::bytes(
          "HTTP/1.1 302 Found\r\nLocation: /same\r\nContent-Length: 0\r\n\r\n");
    return ScriptedReply::bytes("HTTP/1.1 302 Found\r\nLocation: " + other.url("/x") +
                                "\r\nContent-Length: 0\r\n\r\n");
  });
  TempDir files;
  files.write("n", "default login ann password s3cret\n");
  for (const std::vector<std::string>& creds :
       {std::vector<std::string>{"-u", "ann:s3cret"}, {"--netrc-file", files / "n"}}) {
    CAPTURE(creds[0]);
    std::vector<std::string> away = creds, here = creds, k = creds;
    away.insert(away.begin(), "-L");
    away.push_back(first.url("/away"));
    here.insert(here.begin(), "-L");
    here.push_back(first.url("/here"));
    k.insert(k.begin(), {"-sL"});
    k.push_back(first.url("/away"));
    CHECK(httpc(away).out == "auth=");
    // curl agrees for -u (since 7.83 another port is another origin too); with a netrc file
    // it looks the new host up again, and a `default` entry matches any: httpc does not.
    if (creds[0] == "-u") CHECK(curl(k).out == "auth=");
    CHECK(httpc(here).out == "auth=Basic YW5uOnMzY3JldA==");  // the same origin keeps them
  }
}

TEST_CASE("-i, -D, --output-dir and --create-dirs write what curl's write") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/r")
      return ScriptedReply::bytes(
          "HTTP/1.1 302 Found\r\nLocation: /a.txt\r\nContent-Length: 5\r\n"
          "Connection: close\r\n\r\nmoved");
    return ScriptedReply::bytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Test: one two\r\n"
        "Content-Length: 6\r\nConnection: close\r\n\r\nhello\n");
  });
  const std::string a = s.url("/a.txt"), r = s.url("/r");
  TempDir mine, theirs;
  struct Case {
    const char* what;
    std::vector<std::string> flags;
  };
  const std::vector<Case> same_stdout = {
      {"-i", {"-i", a}},
      {"-i -L: each head, then the body", {"-i", "-L", r}},
      {"-D -: the heads on stdout, then the body", {"-D", "-", a}},
      {"-D - -L", {"-D", "-", "-L", r}},
  };
  for (const Case& c : same_stdout) {
    CAPTURE(c.what);
    std::vector<std::string> k = c.flags;
    k.insert(k.begin(), "-s");
    const RunResult h = httpc(c.flags), cu = curl(k);
    CHECK(h.status == 0);
    CHECK(cu.status == 0);
    CHECK(h.out == cu.out);
  }
  // -D FILE with -o: the heads in one file, the body in the other.
  for (auto [dir, tool] : {std::pair{&mine, 0}, std::pair{&theirs, 1}}) {
    std::vector<std::string> args = {"-L", "-D", *dir / "heads", "-o", *dir / "body", r};
    if (tool == 0) {
      CHECK(httpc(args).status == 0);
    } else {
      args.insert(args.begin(), "-s");
      CHECK(curl(args).status == 0);
    }
  }
  CHECK(read_file(mine / "heads") == read_file(theirs / "heads"));
  CHECK(read_file(mine / "body") == "hello\n");
  CHECK(read_file(mine / "body") == read_file(theirs / "body"));
  // -i -o FILE: the head in the file, before the body.
  CHECK(httpc({"-i", "-o", mine / "with-head", a}).status == 0);
  CHECK(curl({"-s", "-i", "-o", theirs / "with-head", a}).status == 0);
  CHECK(read_file(mine / "with-head") == read_file(theirs / "with-head"));
  CHECK(read_file(mine / "with-head").starts_with("HTTP/1.1 200 OK\r\n"));
  // --output-dir for -O, made by --create-dirs.
  CHECK(httpc({"--output-dir", mine / "x/y", "--create-dirs", "-O", a}).status == 0);
  CHECK(curl({"-s", "--output-dir", theirs / "x/y", "--create-dirs", "-O", a}).status == 0);
  CHECK(read_file(mine / "x/y/a.txt") == "hello\n");
  CHECK(read_file(theirs / "x/y/a.txt") == "hello\n");
  // -o into missing directories: made with --create-dirs, else a local-file error.
  CHECK(httpc({"--create-dirs", "-o", mine / "p/q/f.txt", a}).status == 0);
  CHECK(read_file(mine / "p/q/f.txt") == "hello\n");
  const RunResult missing = httpc({"-o", mine / "nope/f.txt", a});
  CHECK(missing.status == 9);
  CHECK(curl({"-s", "-o", theirs / "nope/f.txt", a}).status == 23);  // curl's write error
  CHECK_FALSE(std::filesystem::exists(mine / "nope"));
  // -i cannot go with -C - (the head would land in the middle of the file).
  CHECK(httpc({"-i", "-C", "-", "-o", mine / "c", a}).status == 2);
}

TEST_CASE("-w prints what curl's -w prints for the same run") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/r")
      return ScriptedReply::bytes(
          "HTTP/1.1 301 Moved Permanently\r\nLocation: /a.txt\r\nContent-Length: 5\r\n"
          "Connection: close\r\n\r\nmoved");
    if (req.target == "/missing")
      return ScriptedReply::bytes(
          "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
          "Connection: close\r\n\r\nnot here\n");
    return ScriptedReply::bytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Test: one two\r\n"
        "Content-Length: 6\r\nConnection: close\r\n\r\nhello\n");
  });
  const std::string format =
      "code=%{http_code} size=%{size_download} redirects=%{num_redirects} "
      "url=%{url_effective} type=%{content_type} version=%{http_version} method=%{method} "
      "x=%header{x-test} 100%%\\n";
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-o", dir / "a", s.url("/a.txt")},
        {"-L", "-o", dir / "b", s.url("/r")},
        {"-o", dir / "c", s.url("/r")},
        {"-o", dir / "d", s.url("/missing")},
        {"-I", s.url("/a.txt")}}) {
    CAPTURE(args.back());
    std::vector<std::string> h = args, k = args;
    h.insert(h.begin(), {"-w", format, "--no-fail"});
    k.insert(k.begin(), {"-s", "-w", format});
    const RunResult mine = httpc(h), theirs = curl(k);
    CHECK(mine.out == theirs.out);
  }
  // %{stderr} and @FILE, and an unknown variable is named.
  dir.write("fmt", "%{http_code}%{stderr}err=%{exitcode}%{nonsense}");
  const RunResult r = httpc({"-w", "@" + dir / "fmt", "-o", dir / "e", s.url("/a.txt")});
  CHECK(r.status == 0);
  CHECK(r.out == "200");
  CHECK(r.err.find("err=0") != std::string::npos);
  CHECK(r.err.find("unknown variable %{nonsense}") != std::string::npos);
  // A failed run still reports: no answer, the exit code and the reason.
  const RunResult refused = httpc({"-w", "%{http_code} %{exitcode}", "http://127.0.0.1:1/"});
  CHECK(refused.status == 4);
  CHECK(refused.out == "000 4");
  // -o /dev/null -w: the body goes to the device, the format to the standard output (curl's
  // most common use of -w).
  const std::vector<std::string> quiet = {"-o", "/dev/null", "-w", "%{http_code}", s.url("/a.txt")};
  CHECK(httpc(quiet).out == "200");
  std::vector<std::string> k = quiet;
  k.insert(k.begin(), "-s");
  CHECK(curl(k).out == "200");
}

TEST_CASE("-d, --data-urlencode, --json and -G send what curl's send") {
  ScriptedServer echo([](const ReceivedRequest& req, int) {
    return ScriptedReply::bytes(
        ok(req.method + " " + req.target + "\ntype: " + req.header("Content-Type") +
           "\naccept: " + req.header("Accept") + "\nbody: " + req.body + "\n"));
  });
  TempDir dir;
  dir.write("lines", "a=1\r\nb=2\n");
  dir.write("value", "v=1 2&3\n");
  dir.write("doc.json", "{\n  \"k\": [1, 2]\n}\n");
  const std::string url = echo.url("/form?z=0");
  const std::vector<std::vector<std::string>> cases = {
      {"-d", "a=1", "-d", "b=2"},
      {"-d", "@" + dir / "lines", "-d", "c=3"},
      {"--data-urlencode", "q=a b&c/d", "--data-urlencode", "=x/y z", "--data-urlencode",
       "plain text~"},
      {"--data-urlencode", "name@" + dir / "value", "--data-urlencode", "@" + dir / "value"},
      {"--json", "{\"a\":1}", "--json", "[2]"},
      {"--json", "@" + dir / "doc.json"},
      {"--json", "{}", "-H", "Accept: text/plain"},
      {"-G", "-d", "a=1", "--data-urlencode", "q=x y"},
      {"-d", "x=1", "-X", "PUT"},
  };
  for (const std::vector<std::string>& flags : cases) {
    CAPTURE(flags[0] + " " + flags[1]);
    std::vector<std::string> h = flags, k = flags;
    h.push_back(url);
    k.insert(k.begin(), "-s");
    k.push_back(url);
    const RunResult mine = httpc(h), theirs = curl(k);
    CHECK(mine.status == 0);
    CHECK(mine.out == theirs.out);
  }
  // @- reads the standard input.
  RunResult r = httpc({"-d", "@-", url}, std::string("from\nstdin"));
  CHECK(r.out.find("body: fromstdin\n") != std::string::npos);
  // A ';' that starts no ;type= or ;filename= is part of the value (curl drops what follows
  // it, with a warning, unless the value is quoted).
  const RunResult semi = httpc({"-F", "v=semi;colon", echo.url("/up")});
  CHECK(semi.out.find("\r\n\r\nsemi;colon\r\n") != std::string::npos);
  // A file that cannot be read: nothing is sent.
  r = httpc({"-d", "@" + dir / "missing", url});
  CHECK(r.status == 9);
  CHECK(r.err.find("cannot read") != std::string::npos);
  CHECK(httpc({"-G", "-T", dir / "lines", url}).status == 2);
}

TEST_CASE("-J -O saves under the server's name, made safe, and never replaces a file") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    std::string cd;
    if (req.target == "/dl") cd = "attachment; filename=\"../../report.txt\"";
    if (req.target == "/hidden") cd = "attachment; filename=\".profile\"";
    if (req.target == "/device") cd = "attachment; filename=\"CON.txt\"";
    if (req.target == "/utf8") cd = "attachment; filename*=UTF-8''na%C3%AFve.txt";
    return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nContent-Disposition: " + cd +
                                "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbytes");
  });
  TempDir mine, theirs;
  auto in = [](const TempDir& d, std::vector<std::string> args, bool curl_it) {
    std::vector<std::string> argv = {"--output-dir", d.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!curl_it) return httpc(argv);
    argv.insert(argv.begin(), "-s");
    return curl(argv);
  };
  // The path is cut to its last component, as curl does.
  CHECK(in(mine, {"-O", "-J", s.url("/dl")}, false).status == 0);
  CHECK(in(theirs, {"-O", "-J", s.url("/dl")}, true).status == 0);
  CHECK(read_file(mine / "report.txt") == "bytes");
  CHECK(read_file(theirs / "report.txt") == "bytes");
  // A second time: both refuse to replace it (curl: 23, httpc: 9), the file unchanged.
  mine.write("report.txt", "mine");
  const RunResult again = in(mine, {"-O", "-J", s.url("/dl")}, false);
  CHECK(again.status == 9);
  CHECK(again.err.find("exists") != std::string::npos);
  CHECK(in(theirs, {"-O", "-J", s.url("/dl")}, true).status == 23);
  CHECK(read_file(mine / "report.txt") == "mine");
  CHECK(httpc({"--output-dir", mine.path(), "-O", "-J", "--force", s.url("/dl")}).status == 0);
  CHECK(read_file(mine / "report.txt") == "bytes");
  // Safer than curl: a hidden or device name is not taken; the URL's name is.
  RunResult r = in(mine, {"-O", "-J", s.url("/hidden")}, false);
  CHECK(r.status == 0);
  CHECK(read_file(mine / "hidden") == "bytes");
  CHECK_FALSE(std::filesystem::exists(mine / ".profile"));
  CHECK(r.err.find("not safe") != std::string::npos);
  CHECK(in(mine, {"-O", "-J", s.url("/device")}, false).status == 0);
  CHECK(read_file(mine / "device") == "bytes");
  // filename* in UTF-8 (RFC 8187), which this curl does not read.
  CHECK(in(mine, {"-O", "-J", s.url("/utf8")}, false).status == 0);
  CHECK(read_file(mine / "naïve.txt") == "bytes");
  // -J without -O is a usage error.
  CHECK(httpc({"-J", s.url("/dl")}).status == 2);
}

TEST_CASE("--max-filesize refuses what is larger, by its length or as it arrives") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    const std::string body(100, 'x');
    if (req.target == "/chunked")
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n64\r\n" +
          body + "\r\n0\r\n\r\n");
    return ScriptedReply::bytes(ok(body));
  });
  TempDir dir;
  for (const char* path : {"/len", "/chunked"}) {
    CAPTURE(path);
    const RunResult r = httpc({"--max-filesize", "50", "-o", dir / "f", s.url(path)});
    CHECK(r.status == 16);
    CHECK(r.err.find("larger than --max-filesize 50") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "f"));
    CHECK_FALSE(std::filesystem::exists(dir / "f.part"));
    CHECK(httpc({"--max-filesize", "100", "-o", dir / "g", s.url(path)}).status == 0);
    CHECK(read_file(dir / "g") == std::string(100, 'x'));
    std::filesystem::remove(dir / "g");
  }
  // curl refuses the one of known length too (its exit 63).
  CHECK(curl({"-s", "--max-filesize", "50", "-o", dir / "c", s.url("/len")}).status == 63);
  CHECK(httpc({"--max-filesize", "1k", "-o", dir / "k", s.url("/len")}).status == 0);
  CHECK(httpc({"--max-filesize", "x", s.url("/len")}).status == 2);
}

TEST_CASE("-z, --etag-save and --etag-compare ask what curl's ask") {
  TempDir root, dir;
  root.write("a.txt", "version one");
  ServerProcess server(root.path());
  const std::string url = server.url("/a.txt");
  dir.write("newer", "");
  const std::string old_date = "Sun, 06 Nov 1994 08:49:37 GMT";
  struct Case {
    const char* what;
    std::vector<std::string> flags;
    int status;  // httpc's exit status
    const char* out;
  };
  const std::vector<Case> cases = {
      {"modified since long ago: the file", {"-z", old_date}, 0, "version one"},
      {"modified since the far future: 304, nothing",
       {"-z", "Tue, 01 Jan 2999 00:00:00 GMT"},
       0,
       ""},
      {"unmodified since long ago: 412 (its page on stdout, as curl's)",
       {"-z", "-" + old_date},
       6,
       ""},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    std::vector<std::string> h = c.flags, k = c.flags;
    h.push_back(url);
    k.insert(k.begin(), "-s");
    k.push_back(url);
    const RunResult mine = httpc(h), theirs = curl(k);
    CHECK(mine.status == c.status);
    if (c.status == 0) {
      CHECK(mine.out == c.out);
      CHECK(theirs.out == mine.out);
    }
  }
  // -z FILE: that file's mtime (an hour ahead: the answer is 304).
  const timespec later[2] = {{0, UTIME_OMIT}, {std::time(nullptr) + 3600, 0}};
  ::utimensat(AT_FDCWD, (dir / "newer").c_str(), later, 0);
  RunResult r = httpc({"-z", dir / "newer", "-o", dir / "z", url});
  CHECK(r.status == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "z"));  // 304: nothing written
  CHECK(httpc({"-z", dir / "no-such-file", url}).status == 2);
  // --etag-save keeps the same line as curl's; --etag-compare then gets a 304.
  CHECK(httpc({"--etag-save", dir / "mine", "-o", "/dev/null", url}).status == 0);
  CHECK(curl({"-s", "--etag-save", dir / "theirs", "-o", "/dev/null", url}).status == 0);
  CHECK(read_file(dir / "mine") == read_file(dir / "theirs"));
  CHECK(read_file(dir / "mine").starts_with("\""));
  r = httpc({"--etag-compare", dir / "mine", "-w", "%{http_code}", url});
  CHECK(r.status == 0);
  CHECK(r.out == "304");
  CHECK(curl({"-s", "--etag-compare", dir / "mine", "-w", "%{http_code}", url}).out == "304");
  // Changed on the server: the new version, and its ETag kept.
  root.write("a.txt", "version two, longer");
  r = httpc({"--etag-compare", dir / "mine", "--etag-save", dir / "mine", url});
  CHECK(r.out == "version two, longer");
  CHECK(read_file(dir / "mine") != read_file(dir / "theirs"));
  CHECK(server.stop() == 0);
}

TEST_CASE("-4 and -6 keep to one address family; --retry-all-errors retries a 4xx") {
  std::atomic<int> asked{0};
  ScriptedServer s([&](const ReceivedRequest&, int) {
    if (asked++ == 0)
      return ScriptedReply::bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    return ScriptedReply::bytes(ok("found"));
  });
  const std::string port = std::to_string(s.port());
  CHECK(httpc({"-4", "--retry", "1", "--retry-all-errors", s.url("/")}).out == "found");
  CHECK(asked == 2);
  asked = 0;
  CHECK(httpc({"--retry", "1", s.url("/")}).status == 6);  // a 404 is not retried by default
  CHECK(asked == 1);
  asked = 0;
  CHECK(curl({"-sf", "--retry", "1", "--retry-all-errors", "--retry-delay", "1", s.url("/")}).out ==
        "found");
  // An IPv4 literal has no IPv6 address, and the other way round.
  RunResult r = httpc({"-6", "http://127.0.0.1:" + port + "/"});
  CHECK(r.status == 3);
  r = httpc({"-4", "http://[::1]:" + port + "/"});
  CHECK(r.status == 3);
}

TEST_CASE("-b and -c: the cookies curl keeps and sends, for the run and in the jar") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/login")
      return ScriptedReply::bytes(
          "HTTP/1.1 302 Found\r\nLocation: /home\r\n"
          "Set-Cookie: session=abc123; Path=/; HttpOnly\r\n"
          "Set-Cookie: pref=dark; Path=/home; Max-Age=3600\r\n"
          "Set-Cookie: gone=1; Max-Age=0\r\n"
          "Set-Cookie: other=1; Domain=other.example\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return ScriptedReply::bytes(ok("cookie: " + req.header("Cookie")));
  });
  TempDir dir;
  // Cookies set on the way are sent after the redirect, as curl sends them.
  const RunResult mine = httpc({"-L", "-c", dir / "mine", s.url("/login")});
  const RunResult theirs = curl({"-s", "-L", "-c", dir / "theirs", s.url("/login")});
  CHECK(mine.status == 0);
  CHECK(mine.out == "cookie: pref=dark; session=abc123");
  CHECK(mine.out == theirs.out);
  // The same cookies in both jars (their lines, in any order).
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
      if (!l.empty() && (l.front() != '#' || l.starts_with("#HttpOnly_"))) {
        // The expiry of pref is "now + 3600": the same second or the next in both runs.
        if (l.find("\tpref\t") != std::string::npos)
          l = l.substr(0, l.rfind('\t', l.rfind('\t') - 1));
        out.push_back(l);
      }
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(lines(read_file(dir / "mine")) == lines(read_file(dir / "theirs")));
  // -b FILE sends them back; -b NAME=VALUE is sent as it is.
  for (const char* jar : {"mine", "theirs"}) {
    CAPTURE(jar);
    CHECK(httpc({"-b", dir / jar, s.url("/home/x")}).out == "cookie: pref=dark; session=abc123");
    CHECK(curl({"-s", "-b", dir / jar, s.url("/home/x")}).out ==
          "cookie: pref=dark; session=abc123");
    CHECK(httpc({"-b", dir / jar, s.url("/elsewhere")}).out == "cookie: session=abc123");
  }
  CHECK(httpc({"-b", "a=1; b=2", s.url("/")}).out ==
        curl({"-s", "-b", "a=1; b=2", s.url("/")}).out);
  // A jar not made yet is an empty one; -c - writes it to stdout.
  CHECK(httpc({"-b", dir / "none", s.url("/")}).out == "cookie: ");
  const RunResult out = httpc({"-c", "-", "-o", dir / "x", s.url("/login")});
  CHECK(out.out.find("session\tabc123") != std::string::npos);
}

// ---- proxies: tinyproxy (Debian) as the forward proxy ------------------------------------

namespace {

// tinyproxy on a port of its own, in the foreground; with `auth`, Basic ann:s3cret.
class TinyProxy {
 public:
  explicit TinyProxy(bool auth) : port_(unused_port()) {
    dir_.write("conf", "Port " + std::to_string(port_) +
                           "\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\nLogLevel Info\n"
                           "LogFile \"" +
                           dir_ / "log" + "\"\nMaxClients 100\n" +
                           (auth ? "BasicAuth ann s3cret\n" : ""));
    proc_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/tinyproxy", "-d", "-c", dir_ / "conf"});
    wait_until([&] { return port_accepts(port_); }, "tinyproxy to listen");
  }
  ~TinyProxy() {
    proc_->signal(SIGTERM);
    proc_->wait(10s);
  }
  std::string url(std::string_view creds = {}) const {
    return "http://" + std::string(creds) + (creds.empty() ? "" : "@") +
           "127.0.0.1:" + std::to_string(port_);
  }
  std::string log() const { return read_file(dir_ / "log"); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// Why tinyproxy cannot run here, or "" (under CI=true it must: scripts/lib.sh installs it).
bool tinyproxy_missing() {
  if (std::filesystem::exists("/usr/bin/tinyproxy")) return false;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string_view(ci) == "true")
    FAIL_CHECK("tinyproxy is not installed under CI (scripts/lib.sh installs it)");
  else
    MESSAGE("skipped: /usr/bin/tinyproxy is not installed (Debian package tinyproxy)");
  return true;
}

}  // namespace

TEST_CASE("through tinyproxy: http asked of it, https through CONNECT, as curl's") {
  if (tinyproxy_missing()) return;
  const TestPki pki;
  TempDir root;
  root.write("a.txt", "through the proxy");
  ServerProcess plain(root.path()),
      tls(root.path(), {"--tls-cert", pki.cert("server"), "--tls-key", pki.key("server")}),
      wrong_host(root.path(),
                 {"--tls-cert", pki.cert("other-host"), "--tls-key", pki.key("other-host")});
  TinyProxy open(false), guarded(true);
  const std::vector<std::string> trust = {"--cacert", pki.ca_cert()};
  for (const std::string& proxy : {open.url(), guarded.url("ann:s3cret")}) {
    for (const ServerProcess* server : {&plain, &tls}) {
      CAPTURE(proxy);
      CAPTURE(server->url("/a.txt"));
      std::vector<std::string> h = trust, k = trust;
      h.insert(h.end(), {"-x", proxy, server->url("/a.txt")});
      k.insert(k.end(), {"-s", "-x", proxy, server->url("/a.txt")});
      const RunResult mine = httpc(h), theirs = curl(k);
      CHECK(mine.status == 0);
      CHECK(mine.out == "through the proxy");
      CHECK(theirs.out == mine.out);
    }
  }
  // It went through the proxies: the absolute-form GET, and the tunnel.
  const std::string plain_port = std::to_string(plain.port()),
                    tls_port = std::to_string(tls.port());
  CHECK(open.log().find("GET http://127.0.0.1:" + plain_port + "/a.txt") != std::string::npos);
  CHECK(open.log().find("CONNECT 127.0.0.1:" + tls_port) != std::string::npos);
  CHECK(guarded.log().find("CONNECT 127.0.0.1:" + tls_port) != std::string::npos);
  // Without the proxy's credentials: its 407, for the request or the tunnel.
  RunResult r = httpc({"-x", guarded.url(), plain.url("/a.txt")});
  CHECK(r.status == 6);
  CHECK(curl({"-sf", "-x", guarded.url(), plain.url("/a.txt")}).status == 22);
  r = httpc({"--cacert", pki.ca_cert(), "-x", guarded.url(), tls.url("/a.txt")});
  CHECK(r.status == 6);
  CHECK(r.err.find("the proxy answered CONNECT 127.0.0.1:" + tls_port + " with 407") !=
        std::string::npos);
  CHECK(curl({"-s", "--cacert", pki.ca_cert(), "-x", guarded.url(), tls.url("/a.txt")}).status ==
        56);
  // Through the tunnel the origin's certificate is verified as without a proxy.
  r = httpc({"--cacert", pki.ca_cert(), "-x", open.url(), wrong_host.url("/a.txt")});
  CHECK(r.status == 15);
  CHECK(
      curl({"-s", "--cacert", pki.ca_cert(), "-x", open.url(), wrong_host.url("/a.txt")}).status ==
      60);
  // A proxy that is not there: the connection fails (curl: 7).
  const std::string dead = "http://127.0.0.1:" + std::to_string(unused_port());
  r = httpc({"-x", dead, plain.url("/a.txt")});
  CHECK(r.status == 4);
  CHECK(r.err.find("cannot connect to proxy 127.0.0.1") != std::string::npos);
  CHECK(curl({"-s", "-x", dead, plain.url("/a.txt")}).status == 7);
  CHECK(httpc({"-x", "socks5://127.0.0.1:1080", plain.url("/a.txt")}).status == 2);
}

TEST_CASE("the environment's proxies and no_proxy, read as curl reads them") {
  if (tinyproxy_missing()) return;
  TempDir root;
  root.write("a.txt", "env");
  ServerProcess plain(root.path());
  TinyProxy proxy(false);
  const std::string dead = "http://127.0.0.1:" + std::to_string(unused_port());
  const std::string url = plain.url("/a.txt");
  struct Case {
    const char* what;
    std::vector<std::string> env, flags;
    bool through;             // the proxy saw it
    bool curl_agrees = true;  // curl 7.88 reads no port in no_proxy
  };
  const std::vector<Case> cases = {
      {"http_proxy", {"http_proxy=" + proxy.url()}, {}, true},
      {"all_proxy", {"all_proxy=" + proxy.url()}, {}, true},
      {"HTTP_PROXY is never read", {"HTTP_PROXY=" + dead}, {}, false},
      {"no_proxy names the host",
       {"http_proxy=" + dead, "no_proxy=localhost,127.0.0.1"},
       {},
       false},
      {"NO_PROXY with the port",
       {"http_proxy=" + dead, "NO_PROXY=127.0.0.1:" + std::to_string(plain.port())},
       {},
       false,
       false},
      {"--noproxy '*'", {"http_proxy=" + dead}, {"--noproxy", "*"}, false},
      {"-x '' goes direct", {"http_proxy=" + dead}, {"-x", ""}, false},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.what));
    const std::size_t seen = proxy.log().size();
    std::vector<std::string> h = {"/usr/bin/env"}, k = {"/usr/bin/env"};
    h.insert(h.end(), c.env.begin(), c.env.end());
    k.insert(k.end(), c.env.begin(), c.env.end());
    h.push_back(binary("httpc"));
    k.insert(k.end(), {"/usr/bin/curl", "-s"});
    h.insert(h.end(), c.flags.begin(), c.flags.end());
    k.insert(k.end(), c.flags.begin(), c.flags.end());
    h.push_back(url);
    k.push_back(url);
    const RunResult mine = run(h, 60s), theirs = run(k, 60s);
    CHECK(mine.status == 0);
    CHECK(mine.out == "env");
    if (c.curl_agrees) CHECK(theirs.out == "env");
    const bool through = proxy.log().find("GET " + url, seen) != std::string::npos;
    CHECK(through == c.through);
  }
}

// ---- multipart/form-data (-F) --------------------------------------------------------------

namespace {

// A multipart/form-data body (RFC 7578) as (head lines, content) per part, in order; the
// boundary is taken from `content_type`. Empty when it does not parse.
std::vector<std::pair<std::string, std::string>> form_parts(const std::string& content_type,
                                                            const std::string& body) {
  std::vector<std::pair<std::string, std::string>> parts;
  const std::size_t b = content_type.find("boundary=");
  if (!content_type.starts_with("multipart/form-data;") || b == std::string::npos) return {};
  const std::string delim = "--" + content_type.substr(b + 9);
  std::size_t at = body.find(delim);
  while (at != std::string::npos) {
    at += delim.size();
    if (body.compare(at, 2, "--") == 0) return parts;  // the end
    const std::size_t head_end = body.find("\r\n\r\n", at);
    const std::size_t next = body.find("\r\n" + delim, head_end);
    if (head_end == std::string::npos || next == std::string::npos) return {};
    parts.emplace_back(body.substr(at + 2, head_end - at - 2),
                       body.substr(head_end + 4, next - head_end - 4));
    at = next + 2;
  }
  return {};
}

}  // namespace

TEST_CASE("-F sends the multipart/form-data curl's -F sends") {
  ScriptedServer echo([](const ReceivedRequest& req, int) {
    return ScriptedReply::bytes(ok(req.method + "\n" + req.header("Content-Type") + "\n" +
                                   req.header("Content-Length") + "\n" + req.body));
  });
  TempDir dir;
  const std::string binary_data = random_bytes(300000, 5);
  dir.write("photo.png", binary_data);
  dir.write("notes.txt", "line one\nline two\n");
  dir.write("data.bin", std::string("\0\r\n--x\r\n", 8));
  const std::vector<std::vector<std::string>> cases = {
      {"-F", "name=Ann Lee", "-F", "empty="},
      {"-F", "photo=@" + dir / "photo.png", "-F", "caption=a photo"},
      {"-F", "doc=@" + dir / "notes.txt;type=text/x-notes;filename=renamed.txt"},
      {"-F", "text=<" + dir / "notes.txt", "-F", "raw=@" + dir / "data.bin"},
  };
  for (const std::vector<std::string>& flags : cases) {
    CAPTURE(flags[1]);
    std::vector<std::string> h = flags, k = flags;
    h.push_back(echo.url("/up"));
    k.insert(k.begin(), "-s");
    k.push_back(echo.url("/up"));
    const RunResult mine = httpc(h), theirs = curl(k);
    REQUIRE(mine.status == 0);
    auto split = [](const std::string& out) {
      const std::size_t a = out.find('\n'), b = out.find('\n', a + 1), c = out.find('\n', b + 1);
      return std::tuple{out.substr(0, a), out.substr(a + 1, b - a - 1),
                        out.substr(b + 1, c - b - 1), out.substr(c + 1)};
    };
    const auto [m_method, m_type, m_length, m_body] = split(mine.out);
    const auto [c_method, c_type, c_length, c_body] = split(theirs.out);
    CHECK(m_method == "POST");
    CHECK(c_method == "POST");
    CHECK(m_length == std::to_string(m_body.size()));  // the length was known in advance
    const auto m_parts = form_parts(m_type, m_body), c_parts = form_parts(c_type, c_body);
    REQUIRE_FALSE(m_parts.empty());
    CHECK(m_parts == c_parts);  // the same heads and contents, part by part
  }
  // The file's bytes, as they are.
  const RunResult r = httpc({"-F", "photo=@" + dir / "photo.png", echo.url("/up")});
  const std::size_t nl = r.out.find('\n');
  const std::string type = r.out.substr(nl + 1, r.out.find('\n', nl + 1) - nl - 1);
  const std::string body = r.out.substr(r.out.find('\n', r.out.find('\n', nl + 1) + 1) + 1);
  const auto parts = form_parts(type, body);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].second == binary_data);
  CHECK(parts[0].first.find("filename=\"photo.png\"") != std::string::npos);
  CHECK(parts[0].first.find("Content-Type: image/png") != std::string::npos);
  // A ';' that starts no ;type= or ;filename= is part of the value (curl drops what follows
  // it, with a warning, unless the value is quoted).
  const RunResult semi = httpc({"-F", "v=semi;colon", echo.url("/up")});
  CHECK(semi.out.find("\r\n\r\nsemi;colon\r\n") != std::string::npos);
  // A file that cannot be read: nothing is sent.
  CHECK(httpc({"-F", "x=@" + dir / "missing", echo.url("/up")}).status == 9);
  CHECK(httpc({"-F", "x=@" + dir.path(), echo.url("/up")}).status == 9);
  CHECK(httpc({"-F", "novalue", echo.url("/up")}).status == 2);
  CHECK(httpc({"-F", "a=1", "-d", "b=2", echo.url("/up")}).status == 2);
}

TEST_CASE("--limit-rate holds an answer to the rate, on average") {
  TempDir root, dir;
  const std::string data = random_bytes(3 << 20, 11);
  root.write("big.bin", data);
  ServerProcess server(root.path());
  // 3 MiB at 1 MiB/s: never faster than the rate (a slow machine only makes it slower), but
  // for one read of the first buffer (256 KiB) ahead of the average.
  const RunResult r = httpc({"--limit-rate", "1M", "-w", "%{speed_download}", "-o", dir / "big.bin",
                             server.url("/big.bin")});
  CHECK(r.status == 0);
  CHECK(read_file(dir / "big.bin") == data);
  const double speed = std::stod(r.out);
  MESSAGE("--limit-rate 1M: " << speed << " bytes/s");
  CHECK(speed <= 1.2 * (1 << 20));
  // An upload's body goes out at the rate too (its head is not held back), whole.
  const RunResult up = httpc({"--limit-rate", "1M", "-w", "%{speed_upload}", "-o", "/dev/null",
                              "-T", dir / "big.bin", server.url("/up.bin")});
  CHECK(up.status == 0);
  CHECK(read_file(root / "up.bin") == data);
  const double up_speed = std::stod(up.out);
  MESSAGE("--limit-rate 1M, upload: " << up_speed << " bytes/s");
  CHECK(up_speed <= 1.2 * (1 << 20));
  CHECK(server.stop() == 0);
}
