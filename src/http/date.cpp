#include "http/date.hpp"

#include <array>

#include "http/chars.hpp"

namespace httpfs::http {

namespace {

constexpr std::array<std::string_view, 7> kDays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
constexpr std::array<std::string_view, 7> kLongDays = {"Thursday", "Friday",  "Saturday", "Sunday",
                                                       "Monday",   "Tuesday", "Wednesday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Howard Hinnant's days_from_civil / civil_from_days.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day;
};
constexpr Civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{y + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void put2(char* p, unsigned v) {
  p[0] = char('0' + v / 10 % 10);
  p[1] = char('0' + v % 10);
}

// Reads exactly n digits.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!chars::is_digit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  out = v;
  return true;
}

int month_index(std::string_view s) {
  for (std::size_t i = 0; i < kMonths.size(); ++i)
    if (s == kMonths[i]) return static_cast<int>(i) + 1;
  return 0;
}

// "HH:MM:SS" at pos.
bool time_of_day(std::string_view s, std::size_t pos, int& h, int& m, int& sec) {
  return pos + 8 <= s.size() && digits(s, pos, 2, h) && s[pos + 2] == ':' &&
         digits(s, pos + 3, 2, m) && s[pos + 5] == ':' && digits(s, pos + 6, 2, sec) && h < 24 &&
         m < 60 && sec <= 60;
}

std::optional<std::int64_t> assemble(int year, int month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  if (s == 60) s = 59;  // leap second
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         h * 3600 + m * 60 + s;
}

}  // namespace

void format_http_date(std::int64_t t, char* out) noexcept {
  const std::int64_t days = floor_div(t, 86400);
  const std::int64_t secs = t - days * 86400;
  const Civil c = civil_from_days(days);
  const auto dow = static_cast<std::size_t>(((days % 7) + 7) % 7);  // 1970-01-01 was a Thursday
  std::string_view d = kDays[dow];
  out[0] = d[0], out[1] = d[1], out[2] = d[2], out[3] = ',', out[4] = ' ';
  put2(out + 5, c.day);
  out[7] = ' ';
  std::string_view mon = kMonths[c.month - 1];
  out[8] = mon[0], out[9] = mon[1], out[10] = mon[2], out[11] = ' ';
  auto y = static_cast<unsigned>(c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year);
  put2(out + 12, y / 100);
  put2(out + 14, y % 100);
  out[16] = ' ';
  put2(out + 17, static_cast<unsigned>(secs / 3600));
  out[19] = ':';
  put2(out + 20, static_cast<unsigned>(secs / 60 % 60));
  out[22] = ':';
  put2(out + 23, static_cast<unsigned>(secs % 60));
  out[25] = ' ', out[26] = 'G', out[27] = 'M', out[28] = 'T';
}

std::string format_http_date(std::int64_t t) {
  std::string s(kHttpDateLength, ' ');
  format_http_date(t, s.data());
  return s;
}

void format_rfc3339(std::int64_t t, char* out) noexcept {
  char http[kHttpDateLength];
  format_http_date(t, http);
  const Civil c = civil_from_days(floor_div(t, 86400));
  auto y = static_cast<unsigned>(c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year);
  put2(out, y / 100);
  put2(out + 2, y % 100);
  out[4] = '-';
  put2(out + 5, c.month);
  out[7] = '-';
  put2(out + 8, c.day);
  out[10] = 'T';
  for (int i = 0; i < 8; ++i) out[11 + i] = http[17 + i];  // HH:MM:SS
  out[19] = 'Z';
}

std::string format_rfc3339(std::int64_t t) {
  std::string s(kRfc3339Length, ' ');
  format_rfc3339(t, s.data());
  return s;
}

std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept {
  int day = 0, year = 0, h = 0, m = 0, sec = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (s.size() == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' && s[11] == ' ' && s[16] == ' ' &&
      s.substr(25) == " GMT") {
    bool day_ok = false;
    for (auto d : kDays) day_ok |= s.substr(0, 3) == d;
    int month = month_index(s.substr(8, 3));
    if (day_ok && month && digits(s, 5, 2, day) && digits(s, 12, 4, year) &&
        time_of_day(s, 17, h, m, sec))
      return assemble(year, month, day, h, m, sec);
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' && s[19] == ' ') {
    int month = month_index(s.substr(4, 3));
    bool day_ok = s[8] == ' ' ? digits(s, 9, 1, day) : digits(s, 8, 2, day);
    bool wd = false;
    for (auto d : kDays) wd |= s.substr(0, 3) == d;
    if (wd && month && day_ok && time_of_day(s, 11, h, m, sec) && digits(s, 20, 4, year))
      return assemble(year, month, day, h, m, sec);
    return std::nullopt;
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  std::size_t comma = s.find(',');
  if (comma != std::string_view::npos && s.size() == comma + 24 && s.substr(comma + 20) == " GMT") {
    bool wd = false;
    for (auto d : kLongDays) wd |= s.substr(0, comma) == d;
    std::size_t p = comma + 2;
    int yy = 0;
    int month = month_index(s.substr(p + 3, 3));
    if (wd && s[comma + 1] == ' ' && digits(s, p, 2, day) && s[p + 2] == '-' && month &&
        s[p + 6] == '-' && digits(s, p + 7, 2, yy) && s[p + 9] == ' ' &&
        time_of_day(s, p + 10, h, m, sec)) {
      // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past
      // century. Without a clock here, use the 1970..2069 window.
      year = yy < 70 ? 2000 + yy : 1900 + yy;
      return assemble(year, month, day, h, m, sec);
    }
  }
  return std::nullopt;
}

}  // namespace httpfs::http
