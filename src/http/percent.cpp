#include "http/percent.hpp"

#include "http/chars.hpp"

namespace httpfs::http {

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = chars::hex_value(in[i + 1]), lo = chars::hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

void percent_encode_path(std::string_view in, std::string& out, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t run = 0;  // start of the current run of bytes that stand for themselves
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    auto u = static_cast<unsigned char>(c);
    if (chars::kPathSafe[u] || (keep_slash && c == '/')) continue;
    out.append(in, run, i - run);
    run = i + 1;
    const char escaped[3] = {'%', kHex[u >> 4], kHex[u & 15]};
    out.append(escaped, 3);
  }
  out.append(in, run, in.size() - run);
}

std::string percent_encode_path(std::string_view in, bool keep_slash) {
  std::string out;
  out.reserve(in.size() + 8);
  percent_encode_path(in, out, keep_slash);
  return out;
}

std::string percent_encode_form(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() + 8);
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    if (chars::is_alpha(c) || chars::is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      const char escaped[3] = {'%', kHex[u >> 4], kHex[u & 15]};
      out.append(escaped, 3);
    }
  }
  return out;
}

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    unsigned min, cp;
    if ((c & 0xe0) == 0xc0)
      len = 2, min = 0x80, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
      len = 3, min = 0x800, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
      len = 4, min = 0x10000, cp = c & 0x07;
    else
      return false;
    if (i + static_cast<std::size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

}  // namespace httpfs::http
