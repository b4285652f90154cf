#include "vectors.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "http/base64.hpp"

namespace httpfs::test {

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// JSON strings of raw_gen are latin-1 text: each code point is one byte.
std::string latin1(const std::string& utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xe0) == 0xc0 && i + 1 < utf8.size()) {
      out +=
          static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f));
      ++i;
    } else {
      throw std::runtime_error("raw_gen text is not latin-1");
    }
  }
  return out;
}

}  // namespace

std::string vectors_dir() {
  // $HTTPFS_VECTORS_DIR, else the directory the build was configured with (tests/meson.build
  // sets $HTTPFS_DEFAULT_VECTORS_DIR for every test it runs).
  for (const char* var : {"HTTPFS_VECTORS_DIR", "HTTPFS_DEFAULT_VECTORS_DIR"}) {
    const char* dir = std::getenv(var);
    if (dir == nullptr || *dir == 0) continue;
    if (is_dir(dir)) return dir;
    throw std::runtime_error(std::string(var) + " is not a directory: " + dir);
  }
  throw std::runtime_error(
      "parser vectors not found: set HTTPFS_VECTORS_DIR, or run the test through meson test");
}

nlohmann::json load_vectors(const std::string& file_name) {
  std::ifstream in(vectors_dir() + "/" + file_name);
  if (!in) throw std::runtime_error("cannot open " + file_name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

std::string vector_bytes(const nlohmann::json& v) {
  if (v.contains("raw")) return v["raw"].get<std::string>();
  if (v.contains("raw_b64")) {
    auto d = http::base64_decode(v["raw_b64"].get<std::string>());
    if (!d) throw std::runtime_error("bad raw_b64");
    return *d;
  }
  const auto& g = v["raw_gen"];
  std::string repeat = latin1(g["repeat"].get<std::string>());
  std::string out = latin1(g["prefix"].get<std::string>());
  auto count = g["count"].get<std::size_t>();
  out.reserve(out.size() + repeat.size() * count + 64);
  for (std::size_t i = 0; i < count; ++i) out += repeat;
  out += latin1(g["suffix"].get<std::string>());
  if (v.contains("raw_len") && out.size() != v["raw_len"].get<std::size_t>())
    throw std::runtime_error("raw_gen length mismatch");
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace httpfs::test
