#include "http/negotiate.hpp"

#include <charconv>

#include "http/chars.hpp"
#include "http/fields.hpp"

namespace httpfs::http {

namespace {

// q from ";q=0.5" parameters; 1 when absent; -1 when malformed.
double quality(std::string_view params) {
  double q = 1;
  while (!params.empty()) {
    std::size_t semi = params.find(';');
    std::string_view p = chars::trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string_view v = p.substr(2);
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
      if (ec != std::errc() || end != v.data() + v.size() || q < 0 || q > 1) return -1;
    }
  }
  return q;
}

}  // namespace

Weighted weighted_element(std::string_view element) {
  const std::size_t semi = element.find(';');
  return {chars::trim_ows(element.substr(0, semi)),
          semi == std::string_view::npos ? 1.0 : quality(element.substr(semi + 1))};
}

int choose_media_type(std::string_view accept, std::span<const std::string_view> offered) {
  if (chars::trim_ows(accept).empty()) return offered.empty() ? -1 : 0;
  int best = -1;
  double best_q = 0;
  // Specificity decides between ranges matching the same offer: "text/html;q=0" beats "*/*".
  for (std::size_t i = 0; i < offered.size(); ++i) {
    std::string_view type = offered[i];
    std::string_view major = type.substr(0, type.find('/'));
    double q_for_offer = -1;
    int specificity = -1;
    for_each_list_element(accept, [&](std::string_view range) {
      const auto [media, q] = weighted_element(range);
      if (q < 0) return true;
      int spec = -1;
      if (chars::iequals(media, type))
        spec = 2;
      else if (media.size() == major.size() + 2 &&
               chars::iequals(media.substr(0, major.size()), major) &&
               media.substr(major.size()) == "/*")
        spec = 1;
      else if (media == "*/*")
        spec = 0;
      if (spec > specificity) {
        specificity = spec;
        q_for_offer = q;
      }
      return true;
    });
    if (q_for_offer > best_q) {
      best_q = q_for_offer;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace httpfs::http
