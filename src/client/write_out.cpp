#include "client/write_out.hpp"

#include <algorithm>
#include <cstdio>

#include "http/chars.hpp"

namespace httpfs::client {

namespace {

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", s);
  return buf;
}

// Bytes per second over the whole run, as curl prints it (a whole number).
std::uint64_t per_second(std::uint64_t bytes, double s) {
  return s > 0 ? static_cast<std::uint64_t>(static_cast<double>(bytes) / s) : 0;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A variable's value: text, or a number, or null (for JSON); `json` is its JSON form where
// that is not `text` (http_code: 000 as text, 0 in JSON).
struct Value {
  enum class Kind : std::uint8_t { Text, Number, Null } kind;
  std::string text;
  std::string json = {};
};

// Every variable, in curl's (alphabetical) order; a name not here is unknown.
std::vector<std::pair<std::string_view, Value>> variables(const RunFacts& f) {
  using K = Value::Kind;
  auto text = [](std::string s) { return Value{K::Text, std::move(s)}; };
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? Value{K::Null, ""} : Value{K::Text, s};
  };
  auto number = [](auto n) { return Value{K::Number, std::to_string(n)}; };
  auto code = std::to_string(f.http_code);
  if (code.size() < 3) code.insert(0, 3 - code.size(), '0');  // curl prints 000 for none
  return {
      {"content_type", text_or_null(f.content_type)},
      {"errormsg", text_or_null(f.errormsg)},
      {"exitcode", number(f.exitcode)},
      {"filename_effective", text_or_null(f.filename_effective)},
      {"http_code", Value{K::Number, code, std::to_string(f.http_code)}},
      {"http_version", text(f.http_version.empty() ? "0" : f.http_version)},
      {"method", text(f.method)},
      {"num_redirects", number(f.num_redirects)},
      {"response_code", Value{K::Number, code, std::to_string(f.http_code)}},
      {"size_download", number(f.size_download)},
      {"size_header", number(f.size_header)},
      {"size_upload", number(f.size_upload)},
      {"speed_download", number(per_second(f.size_download, f.time_total))},
      {"speed_upload", number(per_second(f.size_upload, f.time_total))},
      {"time_starttransfer", Value{K::Number, seconds(f.time_starttransfer)}},
      {"time_total", Value{K::Number, seconds(f.time_total)}},
      {"url_effective", text(f.url_effective)},
  };
}

std::string json(const RunFacts& f) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, v] : variables(f)) {
    if (!first) out += ",";
    first = false;
    out += json_string(name) + ":";
    if (v.kind == Value::Kind::Null)
      out += "null";
    else if (v.kind == Value::Kind::Number)
      out += v.json.empty() ? v.text : v.json;
    else
      out += json_string(v.text);
  }
  return out + "}";
}

// The fields named `name` (case-insensitive), joined as one value.
std::string header(const RunFacts& f, std::string_view name) {
  std::string out;
  for (const auto& [n, v] : f.headers) {
    if (!http::chars::iequals(n, name)) continue;
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

}  // namespace

std::vector<WriteOutPiece> format_write_out(std::string_view format, const RunFacts& facts,
                                            std::vector<std::string>& unknown) {
  std::vector<WriteOutPiece> out{{WriteOutStream::Stdout, {}}};
  const auto vars = variables(facts);
  auto emit = [&](std::string_view s) { out.back().text.append(s); };
  auto switch_to = [&](WriteOutStream s) {
    if (out.back().stream != s) out.push_back({s, {}});
  };
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '\\' && i + 1 < format.size()) {
      const char e = format[++i];
      if (e == 'n')
        emit("\n");
      else if (e == 'r')
        emit("\r");
      else if (e == 't')
        emit("\t");
      else if (e == '\\')
        emit("\\");
      else
        emit(format.substr(i - 1, 2));
      continue;
    }
    if (c != '%' || i + 1 >= format.size()) {
      emit(format.substr(i, 1));
      continue;
    }
    if (format[i + 1] == '%') {
      emit("%");
      ++i;
      continue;
    }
    const bool is_header = format.substr(i + 1, 7) == "header{";
    const std::size_t open = i + (is_header ? 7 : 1);
    const std::size_t close = format.find('}', open);
    if ((!is_header && format[i + 1] != '{') || close == std::string_view::npos) {
      emit(format.substr(i, 1));
      continue;
    }
    const std::string_view name = format.substr(open + 1, close - open - 1);
    i = close;
    if (is_header) {
      emit(header(facts, name));
    } else if (name == "stdout") {
      switch_to(WriteOutStream::Stdout);
    } else if (name == "stderr") {
      switch_to(WriteOutStream::Stderr);
    } else if (name == "json") {
      emit(json(facts));
    } else if (auto it = std::find_if(vars.begin(), vars.end(),
                                      [&](const auto& v) { return v.first == name; });
               it != vars.end()) {
      emit(it->second.text);
    } else if (std::find(unknown.begin(), unknown.end(), name) == unknown.end()) {
      unknown.emplace_back(name);
    }
  }
  return out;
}

}  // namespace httpfs::client
