// WebDAV dead properties (RFC 4918 4, PROPPATCH): stored with the file itself, in one
// extended attribute, `user.httpfs.props`, so that they travel with rename(2) and a
// PROPPATCH that sets and removes several is all or nothing (one setxattr replaces the lot).
//
// The attribute holds NUL-separated fields, four per property: namespace, local name,
// xml:lang, value (self-contained XML, see http/xml_writer.hpp), in the order they were
// first set. None can contain a NUL (XML cannot). A file system without user xattrs (or without room for the
// attribute) reports it: -ENOTSUP / -E2BIG / -ENOSPC, never a silent loss.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/xml_body.hpp"

namespace httpfs::io {

inline constexpr const char* kDeadPropsAttr = "user.httpfs.props";

struct DeadProperty {
  http::XmlName name;
  std::string value_xml;
  std::string lang;  // the xml:lang the value was set with ("" none; RFC 4918 4.3)
};

// The dead properties of the open file or directory `fd`: 0 (none is fine) or -errno.
int read_dead_props(int fd, std::vector<DeadProperty>& out);
// The same for the member `name` of the directory `dir_fd`, without following a symlink;
// one syscall where the kernel has getxattrat(2).
int read_dead_props_at(int dir_fd, const std::string& name, std::vector<DeadProperty>& out);
// Replaces them all (an empty list removes the attribute): 0 or -errno.
int write_dead_props(int fd, const std::vector<DeadProperty>& props);

// Pure helpers, for the format and for PROPPATCH: serialise, parse (false when the bytes are
// not a valid list), and apply one set (replacing a property of that name, else appending)
// or remove (absent is fine, RFC 4918 9.2).
std::string encode_dead_props(const std::vector<DeadProperty>& props);
bool decode_dead_props(std::string_view bytes, std::vector<DeadProperty>& out);
void set_dead_prop(std::vector<DeadProperty>& props, DeadProperty p);
void remove_dead_prop(std::vector<DeadProperty>& props, const http::XmlName& name);

// Copies the attribute from one open file to another (COPY): 0, or -errno (no attribute is
// not an error).
int copy_dead_props(int from_fd, int to_fd);

}  // namespace httpfs::io
