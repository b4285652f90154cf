// Debug lines (-v) format addresses and paths: only when debug logging is on, so that a busy
// server does not build strings nobody reads.
#pragma once

#include <spdlog/spdlog.h>

#define HTTPFS_DEBUG(...)                                                     \
  do {                                                                        \
    if (spdlog::should_log(spdlog::level::debug)) spdlog::debug(__VA_ARGS__); \
  } while (0)
