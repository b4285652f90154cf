// The attribute's bytes: for each property, in order, namespace NUL local-name NUL xml:lang
// NUL value NUL
// (each field NUL-terminated, so an empty list is zero bytes and empty fields are kept).
// Decoding is strict: every field UTF-8, a non-empty local name, no name twice. The bytes
// come from a file anyone with shell access may have touched, and they go out verbatim into
// PROPFIND responses, which must stay well-formed XML.
#include "io/dead_props.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <set>
#include <utility>

namespace httpfs::io {

namespace {

std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (c >= 0xc0 && c < 0xe0) {
    len = 2;
  } else if (c >= 0xe0 && c < 0xf0) {
    len = 3;
  } else if (c >= 0xf0 && c < 0xf8) {
    len = 4;
  } else {
    return 0;  // a continuation byte, or no UTF-8 lead byte at all
  }
  std::uint32_t cp = c & (0x7fu >> len);
  const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3fu);
  }
  // Overlong forms, surrogates and code points past Unicode's end are not UTF-8.
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool valid_field(std::string_view s) {
  return s.find('\0') == std::string_view::npos && valid_utf8(s);
}

bool valid_prop(const DeadProperty& p) {
  return !p.name.local.empty() && valid_field(p.name.ns) && valid_field(p.name.local) &&
         valid_field(p.lang) && valid_field(p.value_xml);
}

bool valid_list(const std::vector<DeadProperty>& props) {
  std::set<std::pair<std::string_view, std::string_view>> names;
  for (const DeadProperty& p : props) {
    if (!valid_prop(p) || !names.emplace(p.name.ns, p.name.local).second) return false;
  }
  return true;
}

// The attribute's bytes: 0, -ENODATA when there is none, or -errno.
int get_raw(int fd, std::string& out) {
  // Asked twice (size, then bytes); another writer may grow it in between: ERANGE, again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t size = ::fgetxattr(fd, kDeadPropsAttr, nullptr, 0);
    if (size < 0) return -errno;
    out.resize(static_cast<std::size_t>(size));
    if (size == 0) return 0;
    ssize_t n = ::fgetxattr(fd, kDeadPropsAttr, out.data(), out.size());
    if (n >= 0) {
      out.resize(static_cast<std::size_t>(n));
      return 0;
    }
    if (errno != ERANGE) return -errno;
  }
  return -ERANGE;
}

// No attribute, or no attributes at all on this file system: nothing is stored.
bool is_none(int r) {
  return r == -ENODATA || r == -ENOTSUP;
}

int remove_raw(int fd) {
  if (::fremovexattr(fd, kDeadPropsAttr) == 0) return 0;
  return is_none(-errno) ? 0 : -errno;
}

}  // namespace

std::string encode_dead_props(const std::vector<DeadProperty>& props) {
  std::string out;
  for (const DeadProperty& p : props) {
    for (const std::string* field : {&p.name.ns, &p.name.local, &p.lang, &p.value_xml}) {
      out += *field;
      out += '\0';
    }
  }
  return out;
}

bool decode_dead_props(std::string_view bytes, std::vector<DeadProperty>& out) {
  std::vector<DeadProperty> props;
  while (!bytes.empty()) {
    std::string_view fields[4];
    for (std::string_view& field : fields) {
      const std::size_t nul = bytes.find('\0');
      if (nul == std::string_view::npos) return false;
      field = bytes.substr(0, nul);
      bytes.remove_prefix(nul + 1);
    }
    props.push_back({{std::string(fields[0]), std::string(fields[1])},
                     std::string(fields[3]),
                     std::string(fields[2])});
  }
  if (!valid_list(props)) return false;
  out = std::move(props);
  return true;
}

void set_dead_prop(std::vector<DeadProperty>& props, DeadProperty p) {
  auto it = std::find_if(props.begin(), props.end(),
                         [&](const DeadProperty& q) { return q.name == p.name; });
  if (it != props.end()) {
    it->value_xml = std::move(p.value_xml);  // keeps its place: order is first-set order
    it->lang = std::move(p.lang);
  } else {
    props.push_back(std::move(p));
  }
}

void remove_dead_prop(std::vector<DeadProperty>& props, const http::XmlName& name) {
  std::erase_if(props, [&](const DeadProperty& p) { return p.name == name; });
}

// A file system without user xattrs reads as "none": no property can be stored there, and
// PROPFIND must still work. Writing to it reports -ENOTSUP.
int read_dead_props(int fd, std::vector<DeadProperty>& out) {
  out.clear();
  std::string raw;
  int r = get_raw(fd, raw);
  if (is_none(r)) return 0;
  if (r < 0) return r;
  return decode_dead_props(raw, out) ? 0 : -EBADMSG;
}

namespace {

#if defined(__x86_64__) && !defined(SYS_getxattrat)
#define SYS_getxattrat 464  // Linux 6.13; not in this C library's headers yet
#endif

// getxattrat(2) (Linux 6.13): one syscall for what is otherwise open, fgetxattr, close.
struct XattrArgs {
  std::uint64_t value;
  std::uint32_t size;
  std::uint32_t flags;
};
std::atomic<bool> g_no_getxattrat{false};

// The raw attribute of `name` in `dir_fd` if it fits `buf`: its size, or -errno (-ENOSYS: no
// such syscall; -ERANGE: larger).
long getxattr_at(int dir_fd, const char* name, char* buf, std::size_t cap) {
#ifdef SYS_getxattrat
  if (g_no_getxattrat.load(std::memory_order_relaxed)) return -ENOSYS;
  XattrArgs args{reinterpret_cast<std::uint64_t>(buf), static_cast<std::uint32_t>(cap), 0};
  const long n = ::syscall(SYS_getxattrat, dir_fd, name, AT_SYMLINK_NOFOLLOW, kDeadPropsAttr, &args,
                           sizeof args);
  if (n >= 0) return n;
  if (errno == ENOSYS || errno == EINVAL) g_no_getxattrat.store(true, std::memory_order_relaxed);
  return errno == EINVAL ? -ENOSYS : -errno;
#else
  (void)dir_fd, (void)name, (void)buf, (void)cap;
  return -ENOSYS;
#endif
}

}  // namespace

int read_dead_props_at(int dir_fd, const std::string& name, std::vector<DeadProperty>& out) {
  out.clear();
  char buf[4096];
  const long n = getxattr_at(dir_fd, name.c_str(), buf, sizeof buf);
  if (n >= 0) {
    return decode_dead_props(std::string_view(buf, static_cast<std::size_t>(n)), out) ? 0
                                                                                      : -EBADMSG;
  }
  if (is_none(static_cast<int>(n))) return 0;
  if (n != -ENOSYS && n != -ERANGE) return static_cast<int>(n);
  // Without the syscall, or larger than the buffer: through a descriptor.
  const int fd =
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int r = read_dead_props(fd, out);
  ::close(fd);
  return r;
}

int write_dead_props(int fd, const std::vector<DeadProperty>& props) {
  if (props.empty()) return remove_raw(fd);
  if (!valid_list(props)) return -EINVAL;
  const std::string raw = encode_dead_props(props);
  return ::fsetxattr(fd, kDeadPropsAttr, raw.data(), raw.size(), 0) == 0 ? 0 : -errno;
}

// A source without properties clears the target's: a COPY over an existing resource must
// not leave the old one's behind.
int copy_dead_props(int from_fd, int to_fd) {
  std::string raw;
  int r = get_raw(from_fd, raw);
  if (is_none(r)) return remove_raw(to_fd);
  if (r < 0) return r;
  return ::fsetxattr(to_fd, kDeadPropsAttr, raw.data(), raw.size(), 0) == 0 ? 0 : -errno;
}

}  // namespace httpfs::io
