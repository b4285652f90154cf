#include "http/conditional.hpp"

#include "http/chars.hpp"
#include "http/date.hpp"
#include "http/fields.hpp"

namespace httpfs::http {

namespace {

bool is_weak(std::string_view t) {
  return t.size() >= 2 && t[0] == 'W' && t[1] == '/';
}
std::string_view opaque(std::string_view t) {
  return is_weak(t) ? t.substr(2) : t;
}

}  // namespace

bool etag_strong_match(std::string_view a, std::string_view b) noexcept {
  return !is_weak(a) && !is_weak(b) && a == b && a.size() >= 2;
}

bool etag_weak_match(std::string_view a, std::string_view b) noexcept {
  return opaque(a) == opaque(b) && opaque(a).size() >= 2;
}

bool etag_list_matches(std::string_view field, std::string_view etag, bool strong,
                       bool exists) noexcept {
  if (!exists) return false;
  if (chars::trim_ows(field) == "*") return true;
  bool match = false;
  for_each_list_element(field, [&](std::string_view tag) {
    match = strong ? etag_strong_match(tag, etag) : etag_weak_match(tag, etag);
    return !match;
  });
  return match;
}

Precondition evaluate_preconditions(const RequestHead& req, const Validators& v) noexcept {
  const bool get_or_head = req.method == Method::Get || req.method == Method::Head;
  // 1. If-Match
  if (const Header* h = req.find("if-match")) {
    if (!etag_list_matches(h->value, v.etag, /*strong=*/true, v.exists))
      return Precondition::Failed;
  } else if (const Header* ius = req.find("if-unmodified-since")) {
    // 2. If-Unmodified-Since, only without If-Match
    auto date = parse_http_date(ius->value);
    if (date && v.exists && v.last_modified && *v.last_modified > *date)
      return Precondition::Failed;
    if (date && !v.exists) return Precondition::Failed;
  }
  // 3. If-None-Match
  if (const Header* h = req.find("if-none-match")) {
    if (etag_list_matches(h->value, v.etag, /*strong=*/false, v.exists))
      return get_or_head ? Precondition::NotModified : Precondition::Failed;
  } else if (get_or_head) {
    // 4. If-Modified-Since, only without If-None-Match and only for GET/HEAD
    if (const Header* ims = req.find("if-modified-since")) {
      auto date = parse_http_date(ims->value);
      if (date && v.exists && v.last_modified && *v.last_modified <= *date)
        return Precondition::NotModified;
    }
  }
  return Precondition::Proceed;
}

bool if_range_holds(std::string_view if_range, const Validators& v) noexcept {
  if_range = chars::trim_ows(if_range);
  if (!v.exists) return false;
  if (!if_range.empty() && (if_range.front() == '"' || is_weak(if_range)))
    return etag_strong_match(if_range, v.etag);
  auto date = parse_http_date(if_range);
  return date && v.last_modified && *date == *v.last_modified;
}

}  // namespace httpfs::http
