// One httpc run: builds the request from the options, runs transfers on a libuv loop
// (following redirects with -L, retrying with --retry, resuming with -C -), writes the body
// where it belongs, checks digests, and returns the exit code.
#pragma once

#include "client/options.hpp"

namespace httpfs::client {

// Runs to completion on a private loop; returns an ExitCode. Errors are printed to stderr as
// one line "httpc: ...".
int run(const ClientOptions& options);

}  // namespace httpfs::client
