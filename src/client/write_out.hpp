// -w/--write-out: curl's format of what a run did, printed when it ends. `%{name}` is a
// variable, `%header{name}` a field of the last answer, `%%` a percent sign, `\n`, `\r`,
// `\t` and `\\` escapes; `%{stdout}` and `%{stderr}` switch where the rest goes; `%{json}`
// is every variable as one JSON object. A variable httpc does not know is left out with a
// warning, as curl does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpfs::client {

// What a run did, for -w.
struct RunFacts {
  int http_code = 0;               // the last answer's status (0: none)
  std::string http_version;        // "1.1", "2" (curl's)
  std::string method;              // of the last request
  std::string url_effective;       // the last URL asked
  std::string content_type;        // of the last answer
  std::string filename_effective;  // the output file, "" for the standard output
  int num_redirects = 0;
  int exitcode = 0;
  std::string errormsg;
  std::uint64_t size_download = 0;  // body bytes received (coded, as they came)
  std::uint64_t size_upload = 0;    // body bytes sent
  std::uint64_t size_header = 0;    // bytes of the heads received
  double time_starttransfer = 0;    // seconds from the start to the last answer's head
  double time_total = 0;            // seconds from the start to the end
  std::vector<std::pair<std::string, std::string>> headers;  // the last answer's fields
};

enum class WriteOutStream : std::uint8_t { Stdout, Stderr };

struct WriteOutPiece {
  WriteOutStream stream;
  std::string text;
};

// The format applied to `facts`: text for each stream, in order. Unknown variables are
// named in `unknown` (each once).
std::vector<WriteOutPiece> format_write_out(std::string_view format, const RunFacts& facts,
                                            std::vector<std::string>& unknown);

}  // namespace httpfs::client
