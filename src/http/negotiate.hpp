// Proactive content negotiation (RFC 9110 12.5.1): choosing among media types by Accept.
#pragma once

#include <span>
#include <string_view>

namespace httpfs::http {

// Index in `offered` (full media types, e.g. "text/html") of the best match for the Accept
// field value: highest q wins, ties go to the earlier offer; "*/*" and "type/*" match.
// Without an Accept field (empty), 0. -1 when nothing acceptable is offered.
int choose_media_type(std::string_view accept, std::span<const std::string_view> offered);

}  // namespace httpfs::http
