// -F: multipart/form-data (RFC 7578) as curl builds it. The fields are parsed here; the
// Session lays out the body as parts (client/request.hpp), file contents as file ranges
// sent from disk, so a field of any size costs no memory and the length is known before
// the first byte goes out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace httpfs::client {

struct FormField {
  enum class Kind : std::uint8_t {
    Text,      // NAME=VALUE
    File,      // NAME=@FILE: the file, with its name
    FileText,  // NAME=<FILE: the file's content as a text field
  } kind = Kind::Text;
  std::string name;
  std::string value;     // the text, or the file's path
  std::string type;      // ;type=MIME, or ""
  std::string filename;  // ;filename=NAME, or "" (a File field: the path's base name)
};

// One -F argument: NAME=VALUE, NAME=@FILE or NAME=<FILE, then ;type=MIME and ;filename=NAME
// in any order (a ';' not followed by one of them is part of the value). nullopt, with
// `error`, when there is no NAME or a modifier is empty.
std::optional<FormField> parse_form_field(std::string_view arg, std::string& error);

// The MIME type curl gives a file by its extension, else application/octet-stream.
std::string_view guess_type(std::string_view file_name);

// A part's head, from the delimiter line to the empty line (RFC 7578 4.2): the name and
// file name quoted, with '"', CR and LF percent-encoded as browsers (and curl) do; a
// Content-Type for files, or when one was given.
std::string part_head(std::string_view boundary, const FormField& f);

}  // namespace httpfs::client
