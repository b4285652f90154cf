#include "server/workers.hpp"

#include <doctest/doctest.h>

#include <numeric>

using httpfs::server::worker_share;

TEST_CASE("a process-wide limit is split across workers: parts add up, never 0") {
  struct Row {
    std::size_t total, count;
    std::vector<std::size_t> parts;
  };
  const Row rows[] = {
      {100, 1, {100}},      {100, 2, {50, 50}},
      {101, 2, {51, 50}},   {10, 3, {4, 3, 3}},
      {2, 4, {1, 1, 1, 1}},  // fewer than workers: each still takes one
      {0, 1, {1}},          {7, 7, {1, 1, 1, 1, 1, 1, 1}},
  };
  for (const Row& r : rows) {
    std::vector<std::size_t> got;
    for (std::size_t i = 0; i < r.count; ++i) got.push_back(worker_share(r.total, i, r.count));
    CHECK_MESSAGE(got == r.parts, r.total << " over " << r.count);
    if (r.total >= r.count)
      CHECK(std::accumulate(got.begin(), got.end(), std::size_t{0}) == r.total);
  }
}
