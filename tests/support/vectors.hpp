// Loading ../shared/vectors/*.json: where they are and how to turn a vector into bytes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace httpfs::test {

// The directory holding requests.json and responses.json: $HTTPFS_VECTORS_DIR, else
// ../shared/vectors beside the source tree, else /work/shared/vectors. Throws if none exists.
std::string vectors_dir();

nlohmann::json load_vectors(const std::string& file_name);

// The input bytes of a vector: raw (UTF-8 text), raw_b64, or raw_gen (latin-1 pieces).
std::string vector_bytes(const nlohmann::json& v);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace httpfs::test
