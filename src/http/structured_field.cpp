#include "http/structured_field.hpp"

#include "http/chars.hpp"

namespace httpfs::http {

namespace {

bool is_lcalpha(char c) noexcept {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// A cursor over the field value; every parse_* consumes what it accepts and returns false
// at the first byte that does not fit, as the algorithms of RFC 8941 4.2 fail.
class Cursor {
 public:
  explicit Cursor(std::string_view s) noexcept : s_(s) {}
  bool done() const noexcept { return i_ == s_.size(); }
  char peek() const noexcept { return done() ? '\0' : s_[i_]; }
  void skip_sp() noexcept {
    while (!done() && s_[i_] == ' ') ++i_;
  }
  bool eat(char c) noexcept {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }

  // 4.2.4: an Integer or a Decimal. Sets `value` for an integer; `is_integer` says which.
  bool number(std::int64_t& value, bool& is_integer) noexcept {
    const bool negative = eat('-');
    if (!is_digit(peek())) return false;
    std::int64_t n = 0;
    std::size_t digits = 0, fraction = 0;
    bool decimal = false;
    while (!done()) {
      const char c = s_[i_];
      if (is_digit(c)) {
        n = n * 10 + (c - '0');
        ++(decimal ? fraction : digits);
      } else if (c == '.' && !decimal) {
        if (digits > 12) return false;
        decimal = true;
      } else {
        break;
      }
      ++i_;
      if (!decimal && digits > 15) return false;
      if (decimal && fraction > 3) return false;
    }
    if (decimal && fraction == 0) return false;
    is_integer = !decimal;
    value = negative ? -n : n;
    return true;
  }
  // 4.2.5: a String.
  bool string() noexcept {
    if (!eat('"')) return false;
    while (!done()) {
      const char c = s_[i_++];
      if (c == '\\') {
        if (done() || (s_[i_] != '"' && s_[i_] != '\\')) return false;
        ++i_;
      } else if (c == '"') {
        return true;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return false;
  }
  // 4.2.6: a Token.
  bool token() noexcept {
    const char first = peek();
    if (done() || !((first >= 'A' && first <= 'Z') || is_lcalpha(first) || first == '*'))
      return false;
    ++i_;
    while (!done() &&
           (chars::kToken[static_cast<unsigned char>(s_[i_])] || s_[i_] == ':' || s_[i_] == '/'))
      ++i_;
    return true;
  }
  // 4.2.7: a Byte Sequence.
  bool bytes() noexcept {
    if (!eat(':')) return false;
    while (!done() && s_[i_] != ':') {
      const char c = s_[i_++];
      if (!(is_lcalpha(c) || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' || c == '/' ||
            c == '='))
        return false;
    }
    return eat(':');
  }
  // 4.2.8: a Boolean.
  bool boolean(bool& value) noexcept {
    if (!eat('?')) return false;
    if (eat('1')) {
      value = true;
      return true;
    }
    value = false;
    return eat('0');
  }
  // 4.2.3.1: any bare item, value unused.
  bool bare_item() noexcept {
    const char c = peek();
    std::int64_t n = 0;
    bool b = false;
    if (c == '-' || is_digit(c)) return number(n, b);
    if (c == '"') return string();
    if (c == ':') return bytes();
    if (c == '?') return boolean(b);
    return token();
  }
  // 4.2.3.3: a Key.
  bool key() noexcept {
    const char first = peek();
    if (done() || !(is_lcalpha(first) || first == '*')) return false;
    while (!done() && (is_lcalpha(s_[i_]) || is_digit(s_[i_]) || s_[i_] == '_' || s_[i_] == '-' ||
                       s_[i_] == '.' || s_[i_] == '*'))
      ++i_;
    return true;
  }
  // 4.2.3.2: Parameters (checked, not kept).
  bool parameters() noexcept {
    while (eat(';')) {
      skip_sp();
      if (!key()) return false;
      if (eat('=') && !bare_item()) return false;
    }
    return true;
  }
  // 4.2: after the item and its parameters, only spaces may remain.
  bool end() noexcept {
    skip_sp();
    return done();
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<std::int64_t> parse_sf_integer(std::string_view field) noexcept {
  Cursor c(field);
  c.skip_sp();
  std::int64_t value = 0;
  bool integer = false;
  if (!c.number(value, integer) || !integer || !c.parameters() || !c.end()) return std::nullopt;
  return value;
}

std::optional<bool> parse_sf_boolean(std::string_view field) noexcept {
  Cursor c(field);
  c.skip_sp();
  bool value = false;
  if (!c.boolean(value) || !c.parameters() || !c.end()) return std::nullopt;
  return value;
}

std::string_view sf_boolean(bool b) noexcept {
  return b ? "?1" : "?0";
}

}  // namespace httpfs::http
