#include "client/credentials.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "http/base64.hpp"
#include "http/chars.hpp"

namespace httpfs::client {

namespace {

// Reads the tokens of a netrc file one at a time. `text` outlives it.
class NetrcTokens {
 public:
  explicit NetrcTokens(std::string_view text) : text_(text) {}

  // The next token, or nullopt at the end.
  std::optional<std::string> next() {
    skip_blanks();
    if (at_ >= text_.size()) return std::nullopt;
    if (text_[at_] == '"') return quoted();
    const std::size_t start = at_;
    while (at_ < text_.size() && !blank(text_[at_])) ++at_;
    return std::string(text_.substr(start, at_ - start));
  }

  // macdef: the macro's lines, up to and including the next empty line.
  void skip_macro() {
    const std::size_t end = text_.find("\n\n", at_);
    at_ = end == std::string_view::npos ? text_.size() : end + 2;
  }

 private:
  static bool blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  void skip_blanks() {
    while (at_ < text_.size() && blank(text_[at_])) ++at_;
  }

  std::string quoted() {
    std::string out;
    for (++at_; at_ < text_.size() && text_[at_] != '"'; ++at_) {
      char c = text_[at_];
      if (c == '\\' && at_ + 1 < text_.size()) {
        c = text_[++at_];
        c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
      }
      out.push_back(c);
    }
    if (at_ < text_.size()) ++at_;  // the closing quote
    return out;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

// One machine (or default) entry while it is read.
struct Entry {
  bool is_default = false;
  std::string machine;
  std::optional<std::string> login, password;
};

bool matches(const Entry& e, std::string_view host) {
  if (!e.is_default && !http::chars::iequals(e.machine, host)) return false;
  return e.password.has_value() || e.login.has_value();
}

}  // namespace

std::optional<Login> netrc_lookup(std::string_view text, std::string_view host) {
  NetrcTokens tokens(text);
  std::optional<Entry> current;
  std::optional<Entry> fallback;  // the default entry, used when no machine matched
  auto close_entry = [&]() -> std::optional<Login> {
    if (!current) return std::nullopt;
    Entry e = std::move(*current);
    current.reset();
    if (!matches(e, host)) return std::nullopt;
    if (e.is_default) {
      if (!fallback) fallback = std::move(e);
      return std::nullopt;
    }
    return Login{e.login.value_or(""), e.password.value_or("")};
  };
  while (std::optional<std::string> t = tokens.next()) {
    if (*t == "machine" || *t == "default") {
      if (std::optional<Login> found = close_entry()) return found;
      current.emplace();
      current->is_default = *t == "default";
      if (!current->is_default) current->machine = tokens.next().value_or("");
    } else if (*t == "macdef") {
      tokens.next();  // its name
      tokens.skip_macro();
    } else if (current && *t == "login") {
      current->login = tokens.next().value_or("");
    } else if (current && *t == "password") {
      current->password = tokens.next().value_or("");
    } else if (current) {
      tokens.next();  // account, or a word this reader does not know: its value
    }
  }
  if (std::optional<Login> found = close_entry()) return found;
  if (fallback) return Login{fallback->login.value_or(""), fallback->password.value_or("")};
  return std::nullopt;
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string pair;
  pair.reserve(user.size() + 1 + password.size());
  pair.append(user).append(":").append(password);
  return "Basic " + http::base64_encode(pair);
}

std::optional<std::string> ask_password(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  termios saved{};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (!is_tty) {
    ::close(fd);
    return std::nullopt;
  }
  termios quiet = saved;
  quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
  quiet.c_lflag |= ECHONL;
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  [[maybe_unused]] ssize_t w = ::write(fd, prompt.data(), prompt.size());
  std::string line;
  bool ok = false;
  for (char c; ::read(fd, &c, 1) == 1;) {
    if (c == '\n' || c == '\r') {
      ok = true;
      break;
    }
    line.push_back(c);
  }
  ::tcsetattr(fd, TCSAFLUSH, &saved);
  ::close(fd);
  if (!ok) return std::nullopt;
  return line;
}

}  // namespace httpfs::client
