// Content codings (RFC 9110 8.4) and their negotiation by Accept-Encoding (RFC 9110 12.5.3).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace httpfs::http {

enum class Coding : std::uint8_t { Identity, Zstd, Br, Gzip };

// The server's order of preference among equally acceptable codings: zstd compresses and
// decompresses fastest, brotli closest, gzip everywhere.
inline constexpr Coding kCodingPreference[] = {Coding::Zstd, Coding::Br, Coding::Gzip};

// The coding's token in Content-Encoding ("zstd", "br", "gzip"; "identity").
std::string_view coding_name(Coding c) noexcept;
// The suffix of a precompressed sibling file (".zst", ".br", ".gz"; "" for identity).
std::string_view coding_suffix(Coding c) noexcept;
// The coding a Content-Encoding token names ("x-gzip" is gzip, RFC 9110 8.4.1.3); nullopt for
// codings this code does not know.
std::optional<Coding> coding_from_name(std::string_view token) noexcept;

// A set of codings, one bit per Coding.
class CodingSet {
 public:
  constexpr CodingSet() = default;
  constexpr CodingSet(std::initializer_list<Coding> cs) {
    for (Coding c : cs) add(c);
  }
  constexpr void add(Coding c) { bits_ |= bit(c); }
  constexpr bool has(Coding c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  static constexpr std::uint8_t bit(Coding c) { return std::uint8_t(1u << unsigned(c)); }
  std::uint8_t bits_ = 0;
};

// What an Accept-Encoding value (the field's combined value) makes of each coding.
struct CodingWeights {
  // By Coding: the q the field gives it by name or through "*", 0 when it gives none.
  std::array<double, 4> q{0, 0, 0, 0};
  // identity's q when the field names it, else -1 (acceptable, with no weight to compare).
  double identity = -1;
  double of(Coding c) const { return q[static_cast<std::size_t>(c)]; }
  // q > 0, and not below identity's when the field weighs identity.
  bool acceptable(Coding c) const;
};
CodingWeights coding_weights(std::string_view accept);

// The coding to answer in, among `available` (identity is always available): the one the
// Accept-Encoding value gives the highest q, ties broken by kCodingPreference; identity when
// nothing better is acceptable. `accept` is the field's combined value; `present` is false
// when the request has no Accept-Encoding field (then identity: RFC 9110 12.5.3 allows any
// coding, but a client that says nothing may not decode one). A malformed element is ignored.
Coding choose_coding(std::string_view accept, bool present, CodingSet available);

}  // namespace httpfs::http
