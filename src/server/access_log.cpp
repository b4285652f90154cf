#include "server/access_log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>

#include "http/request_parser.hpp"

namespace httpfs::server {

namespace {

// Apache's escaping of the request line: '"' and '\' and non-printable bytes as \xHH, so a
// hostile target cannot forge a log line.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string request_line(const http::RequestHead& h) {
  std::string line;
  line.reserve(h.method_token.size() + h.target.size() + 10);
  line.append(h.method_token)
      .append(" ")
      .append(h.target)
      .append(h.version_minor ? " HTTP/1.1" : " HTTP/1.0");
  return line;
}

std::string_view first_line(std::string_view raw) noexcept {
  const std::size_t end = raw.find_first_of("\r\n");
  return raw.substr(0,
                    std::min<std::size_t>(end == std::string_view::npos ? raw.size() : end, 256));
}

void AccessLog::open(const std::string& target) {
  if (target == "off") {
    logger_.reset();
    return;
  }
  if (target == "-") {
    logger_ = std::make_shared<spdlog::logger>("access",
                                               std::make_shared<spdlog::sinks::stdout_sink_st>());
  } else {
    logger_ = std::make_shared<spdlog::logger>(
        "access", std::make_shared<spdlog::sinks::basic_file_sink_st>(target, false));
  }
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
  logger_->flush_on(spdlog::level::off);
}

void AccessLog::log(std::string_view host, std::string_view user, std::string_view request_line,
                    int status, std::uint64_t bytes) {
  if (!logger_) return;
  std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date_, sizeof date_, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  }
  std::string line;
  line.reserve(96 + request_line.size());
  line += host;
  line += " - ";
  line += user.empty() ? std::string_view("-") : user;
  line += " [";
  line += date_;
  line += "] \"";
  if (request_line.empty())
    line += '-';
  else
    append_escaped(line, request_line);
  line += "\" ";
  line += fmt::format_int(status).str();
  line += ' ';
  if (bytes == 0)
    line += '-';
  else
    line += fmt::format_int(bytes).str();
  logger_->info(line);
  dirty_ = true;
}

void AccessLog::flush() {
  if (dirty_ && logger_) logger_->flush();
  dirty_ = false;
}

}  // namespace httpfs::server
