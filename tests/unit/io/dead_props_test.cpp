// Dead properties: the attribute format, PROPPATCH's set/remove, and storage on real files.
#include "io/dead_props.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "support/process.hpp"

using httpfs::http::XmlName;
using httpfs::io::DeadProperty;
using httpfs::test::TempDir;
using namespace std::string_literals;

namespace {

using Props = std::vector<DeadProperty>;

bool same(const Props& a, const Props& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i].name == b[i].name) || a[i].value_xml != b[i].value_xml || a[i].lang != b[i].lang)
      return false;
  }
  return true;
}

std::string describe(const Props& props) {
  std::string out;
  for (const DeadProperty& p : props)
    out += "{" + p.name.ns + "|" + p.name.local + "|" + p.lang + "|" + p.value_xml + "} ";
  return out;
}

// The raw attribute, or "<none>" / "<error>".
std::string raw_attr(int fd) {
  char buf[65536];
  ssize_t n = ::fgetxattr(fd, httpfs::io::kDeadPropsAttr, buf, sizeof buf);
  if (n < 0) return errno == ENODATA ? "<none>" : "<error>";
  return std::string(buf, static_cast<std::size_t>(n));
}

const DeadProperty kAuthor{{"http://example.com/ns", "author"}, "<e:name xmlns:e=\"x\">A</e:name>"};
const DeadProperty kEmpty{{"", "bare"}, ""};
// U+10FFFF, U+1F600 and U+00E9 in every field.
const DeadProperty kUnicode{{"urn:\xf4\x8f\xbf\xbf", "n\xc3\xa9"},
                            "\xf0\x9f\x98\x80\n<v>\xc3\xa9</v>"};

}  // namespace

TEST_CASE("dead props encode to four NUL-terminated fields each and decode back") {
  CHECK(httpfs::io::encode_dead_props({}) == "");
  CHECK(httpfs::io::encode_dead_props({kEmpty}) == "\0bare\0\0\0"s);
  CHECK(httpfs::io::encode_dead_props({{{"DAV:", "x"}, "v"}, {{"n", "y"}, "", "fr"}}) ==
        "DAV:\0x\0\0v\0n\0y\0fr\0\0"s);
  const Props cases[] = {
      {},
      {kEmpty},
      {kAuthor},
      {kUnicode},
      {kAuthor, kEmpty, kUnicode},
      {{{"a", "p"}, "1"}, {{"b", "p"}, "2"}, {{"a", "q"}, "3"}},  // same local, other ns
      {{{"a", "p"}, "<x/>", "en-GB"}},                            // with its xml:lang
  };
  for (const Props& props : cases) {
    const std::string bytes = httpfs::io::encode_dead_props(props);
    Props back = {kAuthor};  // replaced, not appended to
    REQUIRE_MESSAGE(httpfs::io::decode_dead_props(bytes, back), describe(props));
    CHECK_MESSAGE(same(back, props), describe(props) << " came back as " << describe(back));
  }
}

TEST_CASE("dead props decoding rejects malformed bytes") {
  struct Row {
    std::string bytes;
    bool ok;
  };
  const Row rows[] = {
      {"", true},
      {"n\0l\0\0v\0"s, true},
      {"n\0l\0de\0v\0"s, true},
      {"n"s, false},
      {"n\0l\0"s, false},                  // two fields
      {"n\0l\0v\0"s, false},               // three fields
      {"n\0l\0\0v"s, false},               // the last NUL missing
      {"n\0l\0\0v\0x"s, false},            // a fifth field begun
      {"n\0\0\0v\0"s, false},              // empty local name
      {"n\0l\0\0v\0n\0l\0\0w\0"s, false},  // one name twice
      {"n\0l\0\0v\0m\0l\0\0w\0"s, true},   // same local, other namespace
      {"n\0l\0\xff\0v\0"s, false},         // in the xml:lang
      // UTF-8 in the value: boundaries either side of what is allowed.
      {"n\0l\0\0\x7f\0"s, true},
      {"n\0l\0\0\xc2\x80\0"s, true},               // U+0080
      {"n\0l\0\0\xc1\xbf\0"s, false},              // overlong U+007F
      {"n\0l\0\0\xc0\xaf\0"s, false},              // overlong '/'
      {"n\0l\0\0\xe0\xa0\x80\0"s, true},           // U+0800
      {"n\0l\0\0\xe0\x9f\xbf\0"s, false},          // overlong U+07FF
      {"n\0l\0\0\xed\x9f\xbf\0"s, true},           // U+D7FF
      {"n\0l\0\0\xed\xa0\x80\0"s, false},          // U+D800, a surrogate
      {"n\0l\0\0\xed\xbf\xbf\0"s, false},          // U+DFFF
      {"n\0l\0\0\xee\x80\x80\0"s, true},           // U+E000
      {"n\0l\0\0\xf0\x90\x80\x80\0"s, true},       // U+10000
      {"n\0l\0\0\xf0\x8f\xbf\xbf\0"s, false},      // overlong U+FFFF
      {"n\0l\0\0\xf4\x8f\xbf\xbf\0"s, true},       // U+10FFFF
      {"n\0l\0\0\xf4\x90\x80\x80\0"s, false},      // U+110000
      {"n\0l\0\0\xf8\x88\x80\x80\x80\0"s, false},  // five bytes
      {"n\0l\0\0\x80\0"s, false},                  // a lone continuation byte
      {"n\0l\0\0\xe2\x82\0"s, false},              // cut short by the NUL
      {"n\0l\0\0\xe2\x82"s, false},                // cut short by the end
      {"n\0l\0\0\xff\0"s, false},
      {"\xff\0l\0\0v\0"s, false},  // in the namespace
      {"n\0\xc3\0\0v\0"s, false},  // in the local name
  };
  for (const Row& r : rows) {
    Props out = {kAuthor};
    const bool ok = httpfs::io::decode_dead_props(r.bytes, out);
    CHECK_MESSAGE(ok == r.ok, doctest::toString(r.bytes.size()) << " bytes: " << describe(out));
    if (!ok) CHECK(same(out, {kAuthor}));  // untouched on failure
  }
}

TEST_CASE("set_dead_prop replaces in place; remove_dead_prop of an absent one is fine") {
  Props props;
  httpfs::io::set_dead_prop(props, {{"a", "x"}, "1"});
  httpfs::io::set_dead_prop(props, {{"a", "y"}, "2"});
  httpfs::io::set_dead_prop(props, {{"b", "x"}, "3"});
  CHECK(same(props, {{{"a", "x"}, "1"}, {{"a", "y"}, "2"}, {{"b", "x"}, "3"}}));
  httpfs::io::set_dead_prop(props, {{"a", "x"}, "new"});
  CHECK(same(props, {{{"a", "x"}, "new"}, {{"a", "y"}, "2"}, {{"b", "x"}, "3"}}));
  httpfs::io::remove_dead_prop(props, XmlName{"c", "x"});
  httpfs::io::remove_dead_prop(props, XmlName{"", "y"});
  CHECK(props.size() == 3);
  httpfs::io::remove_dead_prop(props, XmlName{"a", "y"});
  CHECK(same(props, {{{"a", "x"}, "new"}, {{"b", "x"}, "3"}}));
  httpfs::io::set_dead_prop(props, {{"a", "y"}, "back"});  // a removed one comes back last
  CHECK(same(props, {{{"a", "x"}, "new"}, {{"b", "x"}, "3"}, {{"a", "y"}, "back"}}));
  httpfs::io::remove_dead_prop(props, XmlName{"a", "x"});
  httpfs::io::remove_dead_prop(props, XmlName{"b", "x"});
  httpfs::io::remove_dead_prop(props, XmlName{"a", "y"});
  CHECK(props.empty());
}

namespace {

// Two files and a directory, open, in a scratch directory.
struct Files {
  TempDir tmp;
  int a = -1, b = -1, dir = -1;
  Files() {
    tmp.write("a.txt", "a");
    tmp.write("b.txt", "b");
    tmp.write("probe", "");
    tmp.mkdir("dir");
    a = ::open((tmp / "a.txt").c_str(), O_RDONLY | O_CLOEXEC);
    b = ::open((tmp / "b.txt").c_str(), O_RDONLY | O_CLOEXEC);
    dir = ::open((tmp / "dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    REQUIRE(dir >= 0);
  }
  ~Files() {
    for (int fd : {a, b, dir}) ::close(fd);
  }
  Files(const Files&) = delete;
  Files& operator=(const Files&) = delete;

  // False (saying why) where the file system stores no user xattrs: the test then skips.
  bool has_xattrs() const {
    const int fd = ::open((tmp / "probe").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const int r = httpfs::io::write_dead_props(fd, {kAuthor});
    ::close(fd);
    if (r == -ENOTSUP) {
      MESSAGE("skipping: the file system of " << tmp.path() << " has no user xattrs");
      return false;
    }
    REQUIRE(r == 0);
    return true;
  }
};

const Props kAll = {kAuthor, kEmpty, kUnicode};

}  // namespace

TEST_CASE("dead props on a real file: read and write") {
  Files f;
  Props got = {kAuthor};
  CHECK(httpfs::io::read_dead_props(f.a, got) == 0);  // none yet: fine, and empty
  CHECK(got.empty());
  if (!f.has_xattrs()) return;
  REQUIRE(httpfs::io::write_dead_props(f.a, kAll) == 0);
  CHECK(raw_attr(f.a) == httpfs::io::encode_dead_props(kAll));
  REQUIRE(httpfs::io::read_dead_props(f.a, got) == 0);
  CHECK(same(got, kAll));

  // Invalid lists are refused whole; what was stored stays.
  const Props invalid[] = {
      {kAuthor, {{"n", ""}, "v"}},
      {kAuthor, {{"n", "l"}, "a\0b"s}},
      {kAuthor, kAuthor},
      {{{"n", "l"}, "\xff"}},
  };
  for (const Props& props : invalid) CHECK(httpfs::io::write_dead_props(f.a, props) == -EINVAL);
  // Too big for the file system (over 64 KiB never fits; ext4 takes less): an error, and
  // nothing lost.
  const int big = httpfs::io::write_dead_props(f.a, {{{"n", "big"}, std::string(100000, 'x')}});
  CHECK_MESSAGE((big == -E2BIG || big == -ENOSPC), big);
  REQUIRE(httpfs::io::read_dead_props(f.a, got) == 0);
  CHECK(same(got, kAll));

  // A smaller set replaces the lot; an empty one removes the attribute, twice is fine.
  REQUIRE(httpfs::io::write_dead_props(f.a, {kEmpty}) == 0);
  REQUIRE(httpfs::io::read_dead_props(f.a, got) == 0);
  CHECK(same(got, {kEmpty}));
  CHECK(httpfs::io::write_dead_props(f.a, {}) == 0);
  CHECK(raw_attr(f.a) == "<none>");
  CHECK(httpfs::io::write_dead_props(f.a, {}) == 0);
  CHECK(httpfs::io::read_dead_props(-1, got) == -EBADF);
}

TEST_CASE("dead props copy: to a file, to a directory, and none clears the target") {
  Files f;
  if (!f.has_xattrs()) return;
  REQUIRE(httpfs::io::write_dead_props(f.a, kAll) == 0);
  Props got;
  CHECK(httpfs::io::copy_dead_props(f.a, f.b) == 0);
  REQUIRE(httpfs::io::read_dead_props(f.b, got) == 0);
  CHECK(same(got, kAll));
  CHECK(httpfs::io::copy_dead_props(f.a, f.dir) == 0);
  REQUIRE(httpfs::io::read_dead_props(f.dir, got) == 0);
  CHECK(same(got, kAll));
  REQUIRE(httpfs::io::write_dead_props(f.a, {}) == 0);
  CHECK(httpfs::io::copy_dead_props(f.a, f.b) == 0);
  CHECK(raw_attr(f.b) == "<none>");
  REQUIRE(httpfs::io::read_dead_props(f.b, got) == 0);
  CHECK(got.empty());
  CHECK(httpfs::io::copy_dead_props(f.a, f.b) == 0);  // none onto none
}

TEST_CASE("a stored attribute that is not a valid list is an error, an empty one is none") {
  Files f;
  if (!f.has_xattrs()) return;
  const std::string junk = "n\0l\0\xff\0"s;
  REQUIRE(::fsetxattr(f.b, httpfs::io::kDeadPropsAttr, junk.data(), junk.size(), 0) == 0);
  Props got = {kAuthor};
  CHECK(httpfs::io::read_dead_props(f.b, got) == -EBADMSG);
  CHECK(got.empty());
  REQUIRE(::fsetxattr(f.b, httpfs::io::kDeadPropsAttr, "", 0, 0) == 0);
  got = {kAuthor};
  CHECK(httpfs::io::read_dead_props(f.b, got) == 0);
  CHECK(got.empty());
}

TEST_CASE("dead props by name in a directory: small and large, none, not through a link") {
  Files f;
  const int root = ::open(f.tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(root >= 0);
  Props got = {kAuthor};
  CHECK(httpfs::io::read_dead_props_at(root, "a.txt", got) == 0);
  CHECK(got.empty());
  CHECK(httpfs::io::read_dead_props_at(root, "missing", got) == -ENOENT);
  if (f.has_xattrs()) {
    REQUIRE(httpfs::io::write_dead_props(f.a, kAll) == 0);
    REQUIRE(httpfs::io::read_dead_props_at(root, "a.txt", got) == 0);
    CHECK(same(got, kAll));
    // Larger than the one-call buffer: read through a descriptor instead. ext4 without
    // ea_inode keeps a file's attributes in one 4 KiB block, so it cannot hold one.
    const Props large = {{{"urn:x", "big"}, std::string(6000, 'v')}};
    const int w = httpfs::io::write_dead_props(f.b, large);
    if (w == 0) {
      REQUIRE(httpfs::io::read_dead_props_at(root, "b.txt", got) == 0);
      CHECK(same(got, large));
    } else {
      MESSAGE("skipped the large-attribute read: this file system stores at most 4 KiB");
      CHECK((w == -ENOSPC || w == -E2BIG));
    }
    // A link has no properties of its own; its target's are not read through it.
    REQUIRE(::symlinkat("a.txt", root, "link") == 0);
    got = {kAuthor};
    const int r = httpfs::io::read_dead_props_at(root, "link", got);
    CHECK((r == 0 || r == -ELOOP));
    CHECK(got.empty());
  }
  ::close(root);
}
