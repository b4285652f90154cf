#include "http/content_coding.hpp"

#include <array>

#include "http/chars.hpp"
#include "http/fields.hpp"
#include "http/negotiate.hpp"

namespace httpfs::http {

std::string_view coding_name(Coding c) noexcept {
  switch (c) {
    case Coding::Zstd:
      return "zstd";
    case Coding::Br:
      return "br";
    case Coding::Gzip:
      return "gzip";
    case Coding::Identity:
      break;
  }
  return "identity";
}

std::string_view coding_suffix(Coding c) noexcept {
  switch (c) {
    case Coding::Zstd:
      return ".zst";
    case Coding::Br:
      return ".br";
    case Coding::Gzip:
      return ".gz";
    case Coding::Identity:
      break;
  }
  return "";
}

std::optional<Coding> coding_from_name(std::string_view token) noexcept {
  token = chars::trim_ows(token);
  if (chars::iequals(token, "gzip") || chars::iequals(token, "x-gzip")) return Coding::Gzip;
  if (chars::iequals(token, "zstd")) return Coding::Zstd;
  if (chars::iequals(token, "br")) return Coding::Br;
  if (chars::iequals(token, "identity")) return Coding::Identity;
  return std::nullopt;
}

CodingWeights coding_weights(std::string_view accept) {
  // q per coding as the field gives it (-1: not named); "*" covers every coding not named.
  std::array<double, 4> q{-1, -1, -1, -1};
  double star = -1;
  for_each_list_element(accept, [&](std::string_view element) {
    const auto [token, w] = weighted_element(element);
    if (w < 0) return true;
    if (token == "*") {
      star = w;
    } else if (auto c = coding_from_name(token)) {
      auto& slot = q[static_cast<std::size_t>(*c)];
      slot = std::max(slot, w);
    }
    return true;
  });
  CodingWeights out;
  for (Coding c : kCodingPreference) {
    const double w = q[static_cast<std::size_t>(c)];
    out.q[static_cast<std::size_t>(c)] = w >= 0 ? w : std::max(star, 0.0);
  }
  // Identity is acceptable unless excluded, but the field gives it no weight unless it names
  // it (RFC 9110 12.5.3): then a coding wins only when weighed at least as high.
  out.identity = q[static_cast<std::size_t>(Coding::Identity)];
  return out;
}

bool CodingWeights::acceptable(Coding c) const {
  const double w = of(c);
  return w > 0 && (identity < 0 || w >= identity);
}

Coding choose_coding(std::string_view accept, bool present, CodingSet available) {
  if (!present || available.empty()) return Coding::Identity;
  const CodingWeights weights = coding_weights(accept);
  Coding best = Coding::Identity;
  double best_q = 0;
  for (Coding c : kCodingPreference) {
    if (!available.has(c) || !weights.acceptable(c)) continue;
    if (weights.of(c) > best_q) {
      best_q = weights.of(c);
      best = c;
    }
  }
  return best;
}

}  // namespace httpfs::http
