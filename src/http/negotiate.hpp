// Proactive content negotiation (RFC 9110 12.5.1): choosing among media types by Accept;
// the weights (RFC 9110 12.4.2) that Accept-Encoding shares.
#pragma once

#include <span>
#include <string_view>

namespace httpfs::http {

// Index in `offered` (full media types, e.g. "text/html") of the best match for the Accept
// field value: highest q wins, ties go to the earlier offer; "*/*" and "type/*" match.
// Without an Accept field (empty), 0. -1 when nothing acceptable is offered.
int choose_media_type(std::string_view accept, std::span<const std::string_view> offered);

// A list element of Accept or Accept-Encoding ("gzip;q=0.5"): its value, trimmed, and its
// weight: 1 without q, -1 when q is malformed (the element is then ignored).
struct Weighted {
  std::string_view value;
  double q = 1;
};
Weighted weighted_element(std::string_view element);

}  // namespace httpfs::http
