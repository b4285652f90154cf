// Hardening: the resumable-upload state on disk (`.httpfs-state/uploads/`, README "Resumable
// uploads", io/upload_store.hpp), against the real binary:
//   - records damaged in every way (cut, garbage, bad numbers, another version, a symlink, a
//     directory or a FIFO in its place, a target that leads outside, a data file that is a
//     link to a decoy): each answer is the one the code documents, never a 5xx; nothing
//     outside the docroot is created, changed or read into an answer; the upload's target is
//     not created; a healthy upload beside them finishes; a restart's sweep removes what does
//     not parse and leaves the rest
//   - clock jumps: expiry is judged by the record's `expires` (time(2)), never by file times;
//     a record from the past is swept with its data, one from the future is not promised
//     beyond --upload-expiry, an append in flight when its upload expires gets a clear 4xx;
//     with libfaketime, the server started 2 days ahead and 2 days behind its state
//   - guessing: ids of 128 random bits, 1000 guesses, and other users' uploads answered
//     exactly like ones that never existed (integration/resumable "upload URLs are
//     capabilities" covers the basic 404/401 answers; not repeated here)
// Files outside the docroot are decoys in the test's own temporary directory, never real
// system files (the tests run as root).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "support/http_client.hpp"
#include "support/upload_requests.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;
using httpfs::http::Method;

namespace {

// ---- requests (support/upload_requests.hpp) ----------------------------------------------

// One request on a fresh connection; its final answer (interim ones skipped).
Response ask(int port, const std::string& req, Method method) {
  return request(port, req, method);
}

Response head(int port, const std::string& url, const Fields& fields = {}) {
  return ask(port, raw("HEAD", url, fields), Method::Head);
}

Response patch(int port, const std::string& url, std::uint64_t offset, std::string_view body,
               bool complete, const Fields& extra = {}) {
  return ask(port, with_body("PATCH", url, appending(offset, complete) + extra, body),
             Method::Patch);
}

Response cancel(int port, const std::string& url, const Fields& fields = {}) {
  return ask(port, raw("DELETE", url, fields), Method::Delete);
}

// Creates an upload of `path` holding `first` (parts to follow); its URL.
std::string create(int port, const std::string& path, std::string_view first,
                   const Fields& extra = {}) {
  const Response r = ask(port, with_body("PUT", path, creating(false) + extra, first), Method::Put);
  REQUIRE_MESSAGE(r.status == 201, "creating " << path << ": " << r.status << " " << r.body);
  const std::string url = r.header("Location");
  REQUIRE(url.starts_with("/.httpfs-upload/"));
  return url;
}

long max_age(const Response& r) {
  const std::string limit = r.header("Upload-Limit");
  const std::size_t at = limit.find("max-age=");
  return at == std::string::npos ? -1 : std::stol(limit.substr(at + 8));
}

std::string id_of(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

// ---- the state directory -----------------------------------------------------------------

std::string uploads_dir(const std::string& root) {
  return root + "/.httpfs-state/uploads";
}

bool exists_nofollow(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The state files of upload `id` (record, data, completed record).
std::vector<std::string> files_of(const std::string& root, const std::string& id) {
  std::vector<std::string> out;
  for (const std::string& e : entries(uploads_dir(root)))
    if (e.starts_with(id)) out.push_back(e);
  return out;
}

std::size_t unfinished_records(const std::string& root) {
  std::size_t n = 0;
  for (const std::string& e : entries(uploads_dir(root)))
    n += e.size() == 32 && e.find_first_not_of("0123456789abcdef") == std::string::npos;
  return n;
}

// A record (io/upload_store.cpp's format), its fields in order, "end" left out.
using Record = std::vector<std::pair<std::string, std::string>>;
constexpr std::string_view kMagic = "httpfs-upload 1\n";

Record parse_record(const std::string& bytes) {
  REQUIRE(bytes.starts_with(kMagic));
  Record out;
  std::size_t at = kMagic.size();
  for (;;) {
    const std::size_t sp = bytes.find(' ', at), nl = bytes.find('\n', sp);
    REQUIRE((sp != std::string::npos && nl != std::string::npos));
    const std::string name = bytes.substr(at, sp - at);
    const std::size_t len = std::stoull(bytes.substr(sp + 1, nl - sp - 1));
    if (name == "end") return out;
    out.emplace_back(name, bytes.substr(nl + 1, len));
    at = nl + 1 + len + 1;
  }
}

std::string encode_record(const Record& r, std::string_view magic = kMagic) {
  std::string out(magic);
  for (const auto& [name, value] : r)
    out += name + " " + std::to_string(value.size()) + "\n" + value + "\n";
  return out + "end 0\n\n";
}

std::string field(const Record& r, const std::string& name) {
  for (const auto& [n, v] : r)
    if (n == name) return v;
  FAIL("no field " << name);
  return {};
}

Record with_field(Record r, const std::string& name, const std::string& value) {
  for (auto& [n, v] : r)
    if (n == name) v = value;
  return r;
}

// Sets a file's access and modification times (what `touch -d` does), without following a
// symlink.
void set_times(const std::string& path, std::time_t t) {
  const timespec ts[2] = {{t, 0}, {t, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
}

std::string rest_of(const std::string& source, std::uint64_t offset) {
  return offset < source.size() ? source.substr(offset) : std::string("x");
}

// ---- the scene: a docroot with decoys beside it ------------------------------------------

// base/www is the docroot; base/outside holds the decoys that escapes would land on
// ("/../outside/..." from the docroot).
constexpr std::string_view kDecoyMark = "DECOY-5b1e";

struct Scene {
  TempDir base;
  std::string root = base / "www";
  std::string outside = base / "outside";
  Scene() {
    base.mkdir("www");
    base.write("outside/decoy.txt", std::string(kDecoyMark) + " " + random_bytes(5000, 77));
    base.write("outside/passwd", "root:x:0:0:root:/root:/bin/bash\n" + std::string(kDecoyMark));
    base.write("outside/hardlinked.bin", std::string(kDecoyMark) + random_bytes(5000, 78));
    base.mkdir("outside/dir");
  }
  // Everything outside the docroot: the names beside it and the decoys' contents. (Not a
  // walk of the whole base: the docroot holds a FIFO.)
  std::map<std::string, std::string> outside_tree() const {
    std::map<std::string, std::string> t;
    for (const std::string& e : entries(base.path())) t["top/" + e] = "";
    for (const auto& [path, content] : read_tree(outside)) t["outside/" + path] = content;
    return t;
  }
  std::string record_path(const std::string& id) const { return uploads_dir(root) + "/" + id; }
  std::string data_path(const std::string& id) const { return record_path(id) + ".data"; }
};

// ---- expectations ------------------------------------------------------------------------

struct Want {
  int lo, hi;
  bool operator()(int s) const { return s >= lo && s <= hi; }
};
constexpr Want k201{201, 201}, k204{204, 204}, k403{403, 403}, k404{404, 404}, k409{409, 409},
    k4xx{400, 499};

std::string describe(const Want& w) {
  return w.lo == w.hi ? std::to_string(w.lo) : std::to_string(w.lo) + ".." + std::to_string(w.hi);
}

// What a restart's sweep does with the damaged record.
// Swept by the restart (counted in its log line), kept, or removed by the append that found
// its data damaged (before the restart: not counted).
enum class Fate { Swept, Kept, Removed };

struct Victim {
  std::string url, id, target, source;
};

struct Damage {
  std::string name;
  std::function<void(Scene&, Victim&, const Victim& healthy)> apply;
  Want head, patch, del;
  Fate fate;
  std::uint64_t patch_offset = 4000;
  // The append commits the upload legitimately (its target lies in the docroot).
  bool commits = false;
};

// Rewrites the victim's record with `edit` applied to its fields.
std::function<void(Scene&, Victim&, const Victim&)> edit(std::function<Record(Record)> f) {
  return [f](Scene& s, Victim& v, const Victim&) {
    const std::string path = s.record_path(v.id);
    write_file(path, encode_record(f(parse_record(read_file(path)))));
  };
}

std::function<void(Scene&, Victim&, const Victim&)> replace(
    std::function<std::string(std::string)> f) {
  return [f](Scene& s, Victim& v, const Victim&) {
    const std::string path = s.record_path(v.id);
    write_file(path, f(read_file(path)));
  };
}

std::function<Record(Record)> set(const std::string& name, const std::string& value) {
  return [name, value](Record r) { return with_field(std::move(r), name, value); };
}

std::vector<Damage> damages() {
  using V = Victim;
  std::vector<Damage> d;
  auto corrupt = [&](std::string name, std::function<void(Scene&, V&, const V&)> f) {
    // A record that does not parse: 404 to every method, removed by the next sweep.
    d.push_back({std::move(name), std::move(f), k404, k404, k404, Fate::Swept});
  };
  corrupt("an empty record", replace([](std::string) { return std::string(); }));
  corrupt("a record cut in the middle",
          replace([](std::string b) { return b.substr(0, b.size() / 2); }));
  corrupt("a record cut just before its end line",
          replace([](std::string b) { return b.substr(0, b.size() - 8); }));
  corrupt("random bytes", replace([](std::string) { return random_bytes(3000, 1); }));
  corrupt("the magic line, then random bytes",
          replace([](std::string) { return std::string(kMagic) + random_bytes(3000, 2); }));
  corrupt("a negative offset", edit(set("offset", "-5")));
  corrupt("an offset beyond 2^64", edit(set("offset", "99999999999999999999999")));
  corrupt("an offset with spaces", edit(set("offset", " 4000")));
  corrupt("a length with a plus sign", edit(set("length", "+10000")));
  corrupt("an expiry beyond time_t", edit(set("expires", "999999999999999999999999")));
  corrupt("complete neither 0 nor 1", edit(set("complete", "2")));
  corrupt("a target that is not a path", edit(set("target", "victim.bin")));
  corrupt("a digest of the wrong size", edit(set("digest", "abc")));
  corrupt("the id of the healthy upload", [](Scene& s, V& v, const V& healthy) {
    const std::string path = s.record_path(v.id);
    write_file(path, encode_record(with_field(parse_record(read_file(path)), "id", healthy.id)));
  });
  corrupt("a field twice", edit([](Record r) {
            r.emplace_back("offset", "0");
            return r;
          }));
  corrupt("a field missing", edit([](Record r) {
            std::erase_if(r, [](const auto& f) { return f.first == "expires"; });
            return r;
          }));
  corrupt("bytes after the end line", replace([](std::string b) { return b + "offset 1\n0\n"; }));
  corrupt("a length prefix larger than the file", replace([](std::string b) {
            return b.substr(0, b.find("target ")) + "target 99999\n/x\n";
          }));
  corrupt("a record over 64 KiB", edit([](Record r) {
            r.emplace_back("padding", std::string(70 << 10, 'p'));
            return r;
          }));
  // Parses, but expired long ago (a negative time): as if gone, and swept as expired.
  corrupt("an expiry before 1970", edit(set("expires", "-1")));
  corrupt("the record is a symlink to a decoy passwd outside", [](Scene& s, V& v, const V&) {
    REQUIRE(::unlink(s.record_path(v.id).c_str()) == 0);
    REQUIRE(::symlink((s.outside + "/passwd").c_str(), s.record_path(v.id).c_str()) == 0);
  });
  corrupt("the record is a symlink to a valid copy of itself outside",
          [](Scene& s, V& v, const V&) {
            const std::string copy = s.outside + "/record-" + v.id;
            write_file(copy, read_file(s.record_path(v.id)));
            REQUIRE(::unlink(s.record_path(v.id).c_str()) == 0);
            REQUIRE(::symlink(copy.c_str(), s.record_path(v.id).c_str()) == 0);
          });
  corrupt("the record is a FIFO", [](Scene& s, V& v, const V&) {
    REQUIRE(::unlink(s.record_path(v.id).c_str()) == 0);
    REQUIRE(::mkfifo(s.record_path(v.id).c_str(), 0600) == 0);
  });
  // Not parsed, and not removable by unlink(2): ignored, left where it is.
  d.push_back({"the record is a directory",
               [](Scene& s, V& v, const V&) {
                 REQUIRE(::unlink(s.record_path(v.id).c_str()) == 0);
                 REQUIRE(::mkdir(s.record_path(v.id).c_str(), 0700) == 0);
                 write_file(s.record_path(v.id) + "/x", "x");
               },
               k404, k404, k404, Fate::Kept});
  // Another httpfs sharing the tree may write a newer version: left alone.
  d.push_back({"a record of another format version",
               replace([](std::string b) { return "httpfs-upload 2\n" + b.substr(kMagic.size()); }),
               k404, k404, k404, Fate::Kept});

  // Records that parse, whose numbers or files do not hold together. HEAD reads the record
  // alone (204); the append opens the data and the target and must refuse with a 4xx. A data
  // file shorter than the recorded offset, or not the upload's own, ends the upload: 404,
  // and the append removes it.
  d.push_back({"a recorded offset beyond the data file", edit(set("offset", "9000")), k204, k404,
               k404, Fate::Removed, 9000});
  d.push_back(
      {"the data file cut shorter than the offset",
       [](Scene& s, V& v, const V&) { REQUIRE(::truncate(s.data_path(v.id).c_str(), 100) == 0); },
       k204, k404, k404, Fate::Removed});
  // Refused before the data is opened (the offset and the body's length overflow).
  d.push_back({"offset 2^64-1", edit(set("offset", "18446744073709551615")), k204, k4xx, k204,
               Fate::Kept, UINT64_MAX});
  d.push_back({"a length smaller than the offset", edit(set("length", "100")), k204, k4xx, k204,
               Fate::Kept});
  d.push_back({"no data file",
               [](Scene& s, V& v, const V&) { REQUIRE(::unlink(s.data_path(v.id).c_str()) == 0); },
               k204, k404, k204, Fate::Kept});
  d.push_back({"the data file is a directory",
               [](Scene& s, V& v, const V&) {
                 REQUIRE(::unlink(s.data_path(v.id).c_str()) == 0);
                 REQUIRE(::mkdir(s.data_path(v.id).c_str(), 0700) == 0);
               },
               k204, k409, k204, Fate::Kept});
  d.push_back({"the data file is a symlink to a decoy outside",
               [](Scene& s, V& v, const V&) {
                 REQUIRE(::unlink(s.data_path(v.id).c_str()) == 0);
                 REQUIRE(::symlink((s.outside + "/decoy.txt").c_str(), s.data_path(v.id).c_str()) ==
                         0);
               },
               k204, k403, k204, Fate::Kept});
  // A hard link would have the append cut and extend the file outside, and commit it.
  d.push_back(
      {"the data file is a hard link to a decoy outside",
       [](Scene& s, V& v, const V&) {
         REQUIRE(::unlink(s.data_path(v.id).c_str()) == 0);
         REQUIRE(::link((s.outside + "/hardlinked.bin").c_str(), s.data_path(v.id).c_str()) == 0);
       },
       k204, k404, k404, Fate::Removed});

  // Targets that are not normal paths: the record does not parse (404, swept). Targets that
  // lead outside or into the state: the record parses, HEAD and DELETE work, and the append
  // is refused where the docroot refuses any request path.
  d.push_back({"a target with ..", edit(set("target", "/../outside/decoy.txt")), k404, k404, k404,
               Fate::Swept});
  d.push_back({"a target with .. below a missing directory",
               edit(set("target", "/sub/../../outside/decoy.txt")), k404, k404, k404, Fate::Swept});
  d.push_back({"a target that is a symlink to outside",
               [](Scene& s, V& v, const V&) {
                 REQUIRE(::symlink((s.outside + "/decoy.txt").c_str(),
                                   (s.root + "/link-out").c_str()) == 0);
                 const std::string path = s.record_path(v.id);
                 write_file(path, encode_record(with_field(parse_record(read_file(path)), "target",
                                                           "/link-out")));
               },
               k204, k403, k204, Fate::Kept});
  d.push_back({"a target below a symlink to an outside directory",
               [](Scene& s, V& v, const V&) {
                 REQUIRE(::symlink(s.outside.c_str(), (s.root + "/dir-out").c_str()) == 0);
                 const std::string path = s.record_path(v.id);
                 write_file(path, encode_record(with_field(parse_record(read_file(path)), "target",
                                                           "/dir-out/decoy.txt")));
               },
               k204, k403, k204, Fate::Kept});
  d.push_back({"a target in the state directory",
               [](Scene& s, V& v, const V& healthy) {
                 const std::string path = s.record_path(v.id);
                 write_file(path,
                            encode_record(with_field(parse_record(read_file(path)), "target",
                                                     "/.httpfs-state/uploads/" + healthy.id)));
               },
               k204, k409, k204, Fate::Kept});
  d.push_back({"the state directory as target", edit(set("target", "/.httpfs-state")), k204, k409,
               k204, Fate::Kept});
  // A NUL in the target would be cut by the system calls and "/precious.txt" committed.
  d.push_back({"a target with a NUL byte",
               [](Scene& s, V& v, const V&) {
                 write_file(s.root + "/precious.txt", "precious");
                 const std::string path = s.record_path(v.id);
                 write_file(path,
                            encode_record(with_field(parse_record(read_file(path)), "target",
                                                     std::string("/precious.txt\0.bin", 18))));
               },
               k404, k404, k404, Fate::Swept});
  // An absolute path is a path under the docroot like any other: committed there.
  d.push_back({"an absolute target naming a decoy outside",
               [](Scene& s, V& v, const V&) {
                 v.target = s.outside + "/decoy.txt";
                 const std::string path = s.record_path(v.id);
                 write_file(path, encode_record(with_field(parse_record(read_file(path)), "target",
                                                           v.target)));
               },
               k204, k201, k204, Fate::Kept, 4000, true});
  // Room for later fields: an unknown one is skipped, the upload works (the control).
  d.push_back({"an unknown field", edit([](Record r) {
                 r.emplace(r.begin(), "later-field", "whatever\nwith lines");
                 return r;
               }),
               k204, k201, k204, Fate::Kept, 4000, true});
  return d;
}

bool body_leaks(const Response& r) {
  return r.body.find(kDecoyMark) != std::string::npos ||
         r.body.find("root:x:0:0") != std::string::npos;
}

}  // namespace

TEST_CASE("damaged upload records: documented answers, nothing outside, a restart sweeps them") {
  Scene s;
  const std::vector<std::string> args = {"--upload-expiry", "3600"};
  std::vector<Damage> cases = damages();
  std::vector<Victim> victims;
  std::optional<ServerProcess> server(std::in_place, s.root, args);
  int port = server->port();

  Victim healthy;
  healthy.source = random_bytes(10000, 999);
  healthy.target = "/healthy.bin";
  healthy.url = create(port, healthy.target, healthy.source.substr(0, 4000));
  healthy.id = id_of(healthy.url);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    Victim v;
    v.source = random_bytes(10000, static_cast<unsigned>(i + 1));
    v.target = "/victim-" + std::to_string(i) + ".bin";
    v.url = create(port, v.target, v.source.substr(0, 4000));
    v.id = id_of(v.url);
    victims.push_back(v);
  }
  std::map<std::string, std::string> expected_outside = s.outside_tree();

  // With the server running: records are read afresh by every request.
  std::size_t swept = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Damage& c = cases[i];
    Victim& v = victims[i];
    CAPTURE(c.name);
    const std::string docroot_target = v.target;
    c.apply(s, v, healthy);
    // What the case itself planted outside (a decoy of its own) is expected there too.
    for (const auto& [path, content] : s.outside_tree())
      expected_outside.try_emplace(path, content);

    const Response h = head(port, v.url);
    CHECK_MESSAGE(c.head(h.status), "HEAD: " << h.status << ", want " << describe(c.head));
    const Response p = patch(port, v.url, c.patch_offset, rest_of(v.source, c.patch_offset), true);
    CHECK_MESSAGE(c.patch(p.status),
                  "PATCH: " << p.status << " " << p.body << ", want " << describe(c.patch));
    CHECK(p.status < 500);
    CHECK_FALSE(body_leaks(h));
    CHECK_FALSE(body_leaks(p));
    // Nothing outside changed or appeared.
    const std::map<std::string, std::string> outside = s.outside_tree();
    CHECK_MESSAGE(outside == expected_outside,
                  "something outside the docroot was created, changed or removed");
    expected_outside = outside;  // one case's damage is not blamed on the next
    if (c.commits) {
      CHECK(read_file(s.root + v.target) == v.source);
    } else {
      CHECK_MESSAGE(!exists_nofollow(s.root + docroot_target), "the target was created");
    }
    if (c.name == "a target with a NUL byte")
      CHECK(read_file(s.root + "/precious.txt") == "precious");
    if (c.name.starts_with("a target that is a symlink")) {
      struct stat st {};
      CHECK((::lstat((s.root + "/link-out").c_str(), &st) == 0 && S_ISLNK(st.st_mode)));
    }
    swept += c.fate == Fate::Swept;
  }
  // Each damaged record the running server met is named to the operator (a warn line); the
  // one that parses and expired in 1970 is only expired.
  const std::string log = server->process().err();
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i].fate == Fate::Swept && cases[i].name != "an expiry before 1970")
      CHECK_MESSAGE(
          log.find("upload " + victims[i].id + " has a damaged record") != std::string::npos,
          cases[i].name << ": no warn line");
  // The healthy upload beside them continues.
  Response p = patch(port, healthy.url, 4000, healthy.source.substr(4000, 1000), false);
  CHECK(p.status == 204);
  CHECK(p.header("Upload-Offset") == "5000");
  CHECK(server->process().running());

  // A restart: its sweep removes the records that do not parse (and their data files, now
  // orphans) and says how many; it leaves another version's record and what it cannot unlink.
  CHECK(server->stop() == 0);
  server.reset();
  CHECK(s.outside_tree() == expected_outside);
  server.emplace(s.root, args);
  port = server->port();
  const std::string started = wait_for_output(server->process(), Stream::Err, "expired upload(s)");
  CHECK_MESSAGE(
      started.find("removed " + std::to_string(swept) + " expired upload(s)") != std::string::npos,
      started);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Damage& c = cases[i];
    const Victim& v = victims[i];
    CAPTURE(c.name);
    const bool record =
        exists_nofollow(s.record_path(v.id)) || exists_nofollow(s.record_path(v.id) + ".done");
    if (c.fate != Fate::Kept) {
      CHECK_MESSAGE(!record, "the damaged record was not swept");
      CHECK_MESSAGE(!exists_nofollow(s.data_path(v.id)), "its data file was not swept");
    } else {
      CHECK_MESSAGE(record, "the record was swept");
    }
    const Response h = head(port, v.url);
    const Want want_head = c.fate != Fate::Kept ? k404 : c.head;
    CHECK_MESSAGE(want_head(h.status), "HEAD after restart: " << h.status);
    const Response d = cancel(port, v.url);
    CHECK_MESSAGE(c.del(d.status), "DELETE: " << d.status << ", want " << describe(c.del));
    CHECK(d.status < 500);
    if (d.status == 204) {
      CHECK(!exists_nofollow(s.record_path(v.id)));
      CHECK(!exists_nofollow(s.record_path(v.id) + ".done"));
      if (c.name != "the data file is a directory") CHECK(!exists_nofollow(s.data_path(v.id)));
      CHECK(head(port, v.url).status == 404);
    }
  }
  CHECK(s.outside_tree() == expected_outside);
  // The decoys the links led to are all still there, unchanged (outside_tree), and the
  // healthy upload finishes with exactly its bytes.
  p = patch(port, healthy.url, 5000, healthy.source.substr(5000), true);
  CHECK(p.status == 201);
  CHECK(read_file(s.root + healthy.target) == healthy.source);
  CHECK(server->process().running());
}

// ---- clocks ------------------------------------------------------------------------------

namespace {

// Rewrites the `expires` of upload `id`'s record (seconds since the epoch).
void set_expires(const std::string& root, const std::string& id, std::time_t t) {
  const std::string path = uploads_dir(root) + "/" + id;
  write_file(
      path, encode_record(with_field(parse_record(read_file(path)), "expires", std::to_string(t))));
}

std::time_t expires_of(const std::string& root, const std::string& id) {
  return std::stoll(field(parse_record(read_file(uploads_dir(root) + "/" + id)), "expires"));
}

constexpr std::time_t kYear = 365 * 86400;

}  // namespace

TEST_CASE("clock jumps: age is the record's expiry, not file times; expired uploads go whole") {
  TempDir root;
  ServerProcess server(root.path(), {"--upload-expiry", "3600", "--lock-sweep", "0.2"});
  const int port = server.port();
  const std::string source = random_bytes(10000, 42);

  // File times far in the past or the future say nothing: several sweeps later both uploads
  // are there, whole, and continue.
  const std::string old_url = create(port, "/old-mtime.bin", source.substr(0, 4000));
  const std::string new_url = create(port, "/new-mtime.bin", source.substr(0, 4000));
  for (const std::string& f : files_of(root.path(), id_of(old_url)))
    set_times(uploads_dir(root.path()) + "/" + f, 86400);  // 1970-01-02
  for (const std::string& f : files_of(root.path(), id_of(new_url)))
    set_times(uploads_dir(root.path()) + "/" + f, std::time(nullptr) + 80 * kYear);
  std::this_thread::sleep_for(1s);  // five sweeps
  for (const std::string& url : {old_url, new_url}) {
    CAPTURE(url);
    CHECK(files_of(root.path(), id_of(url)).size() == 2);
    const Response h = head(port, url);
    CHECK(h.status == 204);
    CHECK(h.header("Upload-Offset") == "4000");
    CHECK(max_age(h) <= 3600);
    CHECK(patch(port, url, 4000, source.substr(4000), true).status == 201);
  }
  CHECK(read_file(root / "old-mtime.bin") == source);
  CHECK(read_file(root / "new-mtime.bin") == source);

  // A forward jump (a record whose expiry has passed): gone for lookups at once, its record
  // and data swept, the sweep says so, and nothing is committed.
  const std::string past = create(port, "/past.bin", source.substr(0, 4000));
  set_expires(root.path(), id_of(past), std::time(nullptr) - kYear);
  CHECK(head(port, past).status == 404);
  wait_until([&] { return files_of(root.path(), id_of(past)).empty(); },
             "the expired upload's record and data were swept", 10s);
  wait_for_output(server.process(), Stream::Err, "removed 1 expired upload(s)", 10s);
  CHECK(patch(port, past, 4000, source.substr(4000), true).status == 404);
  CHECK(cancel(port, past).status == 404);
  CHECK(!file_exists(root / "past.bin"));

  // An append in flight when its upload expires under it (the clock jumps forward
  // mid-request): the sweep takes the upload, and the client gets a clear 4xx, never a
  // committed file that is not exactly its bytes, never a 5xx.
  for (const bool completes : {true, false}) {
    CAPTURE(completes);
    const std::string name = completes ? "/inflight-last.bin" : "/inflight-part.bin";
    const std::string url = create(port, name, source.substr(0, 4000));
    RawConnection c(port);
    Fields f = appending(4000, completes);
    f.push_back("Content-Length: 6000");
    REQUIRE(c.send(raw("PATCH", url, f)));
    REQUIRE(c.send(source.substr(4000, 3000)));
    std::this_thread::sleep_for(100ms);
    set_expires(root.path(), id_of(url), std::time(nullptr) - 10);
    wait_until([&] { return !file_exists(uploads_dir(root.path()) + "/" + id_of(url)); },
               "the sweep took the upload being appended", 10s);
    REQUIRE(c.send(source.substr(7000, 3000)));
    const std::optional<Response> r = c.read_response(Method::Patch);
    REQUIRE(r.has_value());
    CHECK(r->status < 500);
    const std::string id = id_of(url);
    if (r->status >= 200 && r->status < 300) {
      // The last bytes arrived between the sweep's two passes (records, then orphaned data):
      // the data file was still there to commit. Whole and exact, and known as completed.
      CHECK(completes);
      CHECK(read_file(root.path() + name) == source);
      const Response h = head(port, url);
      CHECK(h.status == 204);
      CHECK(h.header("Upload-Complete") == "?1");
      CHECK(files_of(root.path(), id) == std::vector<std::string>{id + ".done"});
    } else {
      CHECK(r->status == 404);
      CHECK(!exists_nofollow(root.path() + name));
      CHECK(head(port, url).status == 404);
      CHECK(files_of(root.path(), id).empty());
    }
  }
  CHECK(server.process().running());
}

TEST_CASE("a record written by a clock far ahead: refreshed by use, not kept beyond the expiry") {
  TempDir root;
  ServerProcess server(root.path(), {"--upload-expiry", "3", "--lock-sweep", "0.2"});
  const int port = server.port();
  const std::string source = random_bytes(10000, 43);
  const std::string active = create(port, "/active.bin", source.substr(0, 4000));
  const std::string abandoned = create(port, "/abandoned.bin", source.substr(0, 4000));
  const std::time_t ahead = std::time(nullptr) + 10 * kYear;
  set_expires(root.path(), id_of(active), ahead);
  set_expires(root.path(), id_of(abandoned), ahead);

  // In use: nothing lost, and the first append brings the expiry back to --upload-expiry.
  Response h = head(port, active);
  REQUIRE(h.status == 204);
  CHECK(h.header("Upload-Offset") == "4000");
  const Response p = patch(port, active, 4000, source.substr(4000, 1000), false);
  CHECK(p.status == 204);
  CHECK(max_age(p) <= 3);
  CHECK(expires_of(root.path(), id_of(active)) <= std::time(nullptr) + 4);
  CHECK(patch(port, active, 5000, source.substr(5000), true).status == 201);
  CHECK(read_file(root / "active.bin") == source);

  // Abandoned: README promises removal --upload-expiry after the last request, and
  // Upload-Limit's max-age says how long is left: never more than --upload-expiry from now,
  // however far ahead the record's expiry lies (it would hold its place under --max-uploads
  // and its disk space for ten years).
  h = head(port, abandoned);
  REQUIRE(h.status == 204);
  CHECK_MESSAGE(max_age(h) <= 3, "max-age " << max_age(h) << " with --upload-expiry 3");
  wait_until([&] { return head(port, abandoned).status == 404; },
             "the abandoned upload from the future expired within --upload-expiry", 8s);
  wait_until([&] { return files_of(root.path(), id_of(abandoned)).empty(); },
             "its files were swept", 5s);
}

// ---- libfaketime -------------------------------------------------------------------------

namespace {

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

std::vector<std::string> faked(const std::string& offset) {
  // Under ASan the preloaded library comes before ASan's runtime, which ASan refuses unless
  // told (the options are ignored without ASan).
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {std::string("LD_PRELOAD=") + kFaketime, "FAKETIME=" + offset,
          "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_NO_CACHE=1",
          "ASAN_OPTIONS=" + std::string(asan != nullptr ? asan + std::string(":") : "") +
              "verify_asan_link_order=0"};
}

// The server's clock as its Date field tells, minus ours (seconds); nullopt without one.
std::optional<long> server_clock_skew(int port) {
  const Response r = get(port, "/");
  tm t{};
  const std::string date = r.header("Date");
  if (date.empty() || ::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t) == nullptr)
    return std::nullopt;
  return static_cast<long>(::timegm(&t) - std::time(nullptr));
}

}  // namespace

TEST_CASE("libfaketime: the server started 2 days ahead of and behind its state") {
  if (::access(kFaketime, R_OK) != 0) {
    MESSAGE("libfaketime is not installed (apt-get install libfaketime): skipped");
    return;
  }
  TempDir root;
  const std::vector<std::string> args = {"--upload-expiry", "86400"};
  const std::string source = random_bytes(10000, 44);
  {
    ServerProcess probe(root.path(), args, faked("+2d"));
    const std::optional<long> skew = server_clock_skew(probe.port());
    if (!skew || *skew < 2 * 86400 - 60 || *skew > 2 * 86400 + 60) {
      MESSAGE("libfaketime did not move the server's clock (skew " << skew.value_or(0)
                                                                   << " s): skipped");
      return;
    }
  }
  // Made on the real clock, then a server 2 days ahead: older than --upload-expiry, swept at
  // its start, data and all; lookups say 404 and nothing is committed.
  std::string a1, a2, b1, c1, d1;
  {
    ServerProcess real(root.path(), args);
    a1 = create(real.port(), "/a1.bin", source.substr(0, 4000));
    a2 = create(real.port(), "/a2.bin", source.substr(0, 4000));
  }
  {
    ServerProcess ahead(root.path(), args, faked("+2d"));
    wait_for_output(ahead.process(), Stream::Err, "removed 2 expired upload(s)");
    for (const std::string& url : {a1, a2}) {
      CHECK(files_of(root.path(), id_of(url)).empty());
      CHECK(head(ahead.port(), url).status == 404);
      CHECK(patch(ahead.port(), url, 4000, source.substr(4000), true).status == 404);
    }
    b1 = create(ahead.port(), "/b1.bin", source.substr(0, 4000));
  }
  CHECK(!file_exists(root / "a1.bin"));
  CHECK(!file_exists(root / "a2.bin"));
  // Made 2 days ahead, then the real clock: from the future, kept with its bytes; the first
  // append brings its expiry back within --upload-expiry.
  {
    ServerProcess real(root.path(), args);
    const int port = real.port();
    Response h = head(port, b1);
    REQUIRE(h.status == 204);
    CHECK(h.header("Upload-Offset") == "4000");
    const Response p = patch(port, b1, 4000, source.substr(4000, 1000), false);
    CHECK(p.status == 204);
    CHECK(max_age(p) <= 86400);
    CHECK(patch(port, b1, 5000, source.substr(5000), true).status == 201);
    CHECK(read_file(root / "b1.bin") == source);
    c1 = create(port, "/c1.bin", source.substr(0, 4000));
  }
  // Made on the real clock, then a server 2 days behind: kept, continued, finished.
  {
    ServerProcess behind(root.path(), args, faked("-2d"));
    const int port = behind.port();
    const Response h = head(port, c1);
    REQUIRE(h.status == 204);
    CHECK(h.header("Upload-Offset") == "4000");
    CHECK(patch(port, c1, 4000, source.substr(4000), true).status == 201);
    CHECK(read_file(root / "c1.bin") == source);
    d1 = create(port, "/d1.bin", source.substr(0, 4000));
  }
  // Made 2 days behind, then the real clock: expired a day ago, swept at start.
  {
    ServerProcess real(root.path(), args);
    // d1, c1's completed record (kept an hour after completion, on the clock behind), and
    // b1's: to the server behind, its expiry lay 2 days and an hour ahead, beyond
    // --upload-expiry, so its sweep brought it within that, a day before the real now.
    wait_for_output(real.process(), Stream::Err, "removed 3 expired upload(s)");
    CHECK(files_of(root.path(), id_of(d1)).empty());
    CHECK(head(real.port(), d1).status == 404);
    CHECK(patch(real.port(), d1, 4000, source.substr(4000), true).status == 404);
  }
  CHECK(!file_exists(root / "d1.bin"));
}

// ---- guessing ----------------------------------------------------------------------------

namespace {

// An answer without its Date, for comparing two answers byte for byte.
std::string comparable(const Response& r) {
  std::string out = std::to_string(r.status) + " " + r.reason + "\n";
  for (const auto& [name, value] : r.headers)
    if (name != "Date" && name != "date") out += name + ": " + value + "\n";
  return out + "\n" + r.body;
}

}  // namespace

TEST_CASE("upload ids: 128 random bits, 1000 guesses miss, others' uploads look like none") {
  // integration/resumable "upload URLs are capabilities" has the basic answers (user b and
  // no credentials on HEAD, PATCH, DELETE; 20 guesses; ids of the wrong form). Here: the ids'
  // entropy, 1000 guesses, the absence of an existence oracle, completed uploads, a wrong
  // password, and ownership kept across a restart.
  TempDir root;
  const std::vector<std::string> args = {"--auth", "a:a", "--auth", "b:b"};
  std::optional<ServerProcess> server(std::in_place, root.path(), args);
  int port = server->port();

  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    const std::string url = create(port, "/g" + std::to_string(i), "x", {kUserA});
    const std::string id = id_of(url);
    CHECK(url == "/.httpfs-upload/" + id);
    CHECK(id.size() == 32);  // 32 hex digits: 128 bits
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    ids.push_back(id);
  }
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
  // Random, not counted or timed: about half the 2560 bits set (mean 1280, sigma 25), and any
  // two ids differ in most of their digits (30 of 32 expected) and share no 8-digit prefix.
  int ones = 0;
  for (const std::string& id : ids)
    for (char ch : id)
      ones += std::popcount(static_cast<unsigned>(std::stoi(std::string(1, ch), nullptr, 16)));
  CHECK(ones > 1280 - 150);
  CHECK(ones < 1280 + 150);
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = i + 1; j < ids.size(); ++j) {
      int same = 0;
      for (std::size_t k = 0; k < 32; ++k) same += ids[i][k] == ids[j][k];
      CHECK(same <= 12);
      CHECK(ids[i].substr(0, 8) != ids[j].substr(0, 8));
    }

  // 1000 guesses of the right form (as user a, who owns 20 uploads): all 404, nothing changed.
  std::mt19937_64 rng(std::random_device{}());
  std::unique_ptr<RawConnection> c;
  int misses = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string id;
    for (int k = 0; k < 32; ++k) id += "0123456789abcdef"[rng() % 16];
    const std::string url = "/.httpfs-upload/" + id;
    const std::string method = i % 10 == 0 ? "DELETE" : (i % 10 == 1 ? "PATCH" : "HEAD");
    const Method m = i % 10 == 0 ? Method::Delete : (i % 10 == 1 ? Method::Patch : Method::Head);
    const std::string req = method == "PATCH"
                                ? with_body("PATCH", url, appending(1, true) + Fields{kUserA}, "")
                                : raw(method, url, {kUserA});
    std::optional<Response> r;
    for (int attempt = 0; attempt < 2 && !r; ++attempt) {
      if (!c || attempt > 0) c = std::make_unique<RawConnection>(port);
      if (c->send(req)) r = c->read_response(m);
    }
    REQUIRE(r.has_value());
    misses += r->status == 404;
  }
  CHECK(misses == 1000);
  CHECK(unfinished_records(root.path()) == 20);

  // User b, on a's upload, gets exactly what a never-made id gets: no oracle.
  const std::string url = "/.httpfs-upload/" + ids[0];
  const std::string never = "/.httpfs-upload/" + std::string(32, '0');
  auto same_as_none = [&](const Fields& who) {
    CHECK(comparable(head(port, url, who)) == comparable(head(port, never, who)));
    CHECK(comparable(patch(port, url, 1, "y", true, who)) ==
          comparable(patch(port, never, 1, "y", true, who)));
    CHECK(comparable(cancel(port, url, who)) == comparable(cancel(port, never, who)));
  };
  same_as_none({kUserB});
  CHECK(head(port, url, {"Authorization: Basic YTpi"}).status == 401);  // a:b, a wrong password
  // Completed, a's upload (its record now "<id>.done") is still nobody else's.
  REQUIRE(patch(port, url, 1, "y", true, {kUserA}).status == 201);
  CHECK(read_file(root / "g0") == "xy");
  same_as_none({kUserB});
  CHECK(head(port, url).status == 401);
  Response h = head(port, url, {kUserA});
  CHECK(h.status == 204);
  CHECK(h.header("Upload-Complete") == "?1");

  // Ownership is on disk: after a restart, still a's alone.
  CHECK(server->stop() == 0);
  server.emplace(root.path(), args);
  port = server->port();
  const std::string open_url = "/.httpfs-upload/" + ids[1];
  CHECK(comparable(head(port, open_url, {kUserB})) == comparable(head(port, never, {kUserB})));
  CHECK(cancel(port, open_url, {kUserB}).status == 404);
  h = head(port, open_url, {kUserA});
  CHECK(h.status == 204);
  CHECK(h.header("Upload-Offset") == "1");
  CHECK(unfinished_records(root.path()) == 19);
}
