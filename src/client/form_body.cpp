#include "client/form_body.hpp"

#include <array>
#include <utility>

#include "http/chars.hpp"

namespace httpfs::client {

namespace {

// Inside a quoted form-data parameter: '"', CR and LF percent-encoded (HTML's rule).
std::string escape_quoted(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"')
      out += "%22";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::optional<FormField> parse_form_field(std::string_view arg, std::string& error) {
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    error = "expected NAME=VALUE, NAME=@FILE or NAME=<FILE";
    return std::nullopt;
  }
  FormField f;
  f.name = std::string(arg.substr(0, eq));
  std::string_view rest = arg.substr(eq + 1);
  if (!rest.empty() && (rest.front() == '@' || rest.front() == '<')) {
    f.kind = rest.front() == '@' ? FormField::Kind::File : FormField::Kind::FileText;
    rest.remove_prefix(1);
  }
  // The value ends at the first ";type=" or ";filename=".
  auto modifier_at = [&](std::size_t from) {
    for (std::size_t at = rest.find(';', from); at != std::string_view::npos;
         at = rest.find(';', at + 1)) {
      const std::string_view after = rest.substr(at + 1);
      if (after.starts_with("type=") || after.starts_with("filename=")) return at;
    }
    return std::string_view::npos;
  };
  std::size_t at = modifier_at(0);
  f.value = std::string(rest.substr(0, at));
  while (at != std::string_view::npos) {
    const std::size_t next = modifier_at(at + 1);
    const std::string_view m = rest.substr(
        at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    const std::size_t meq = m.find('=');
    const std::string_view key = m.substr(0, meq), val = m.substr(meq + 1);
    if (val.empty()) {
      error = "an empty ;" + std::string(key) + "=";
      return std::nullopt;
    }
    if (val.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      error = "CR, LF or NUL in ;" + std::string(key) + "=";
      return std::nullopt;
    }
    (key == "type" ? f.type : f.filename) = std::string(val);
    at = next;
  }
  if (f.kind != FormField::Kind::Text && f.value.empty()) {
    error = "no file name after " + std::string(f.kind == FormField::Kind::File ? "@" : "<");
    return std::nullopt;
  }
  if (f.kind == FormField::Kind::File && f.filename.empty())
    f.filename = std::string(base_name(f.value));
  return f;
}

std::string_view guess_type(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes = {{
      {".gif", "image/gif"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"},
      {".txt", "text/plain"},
      {".htm", "text/html"},
      {".html", "text/html"},
      {".pdf", "application/pdf"},
      {".xml", "application/xml"},
      {".json", "application/json"},
      {".css", "text/css"},
  }};
  for (const auto& [ext, type] : kTypes)
    if (file_name.size() > ext.size() &&
        http::chars::iequals(file_name.substr(file_name.size() - ext.size()), ext))
      return type;
  return "application/octet-stream";
}

std::string part_head(std::string_view boundary, const FormField& f) {
  std::string head = "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" +
                     escape_quoted(f.name) + "\"";
  if (!f.filename.empty()) head += "; filename=\"" + escape_quoted(f.filename) + "\"";
  head += "\r\n";
  if (!f.type.empty())
    head += "Content-Type: " + f.type + "\r\n";
  else if (f.kind == FormField::Kind::File)
    head += "Content-Type: " + std::string(guess_type(f.filename)) + "\r\n";
  return head + "\r\n";
}

}  // namespace httpfs::client
