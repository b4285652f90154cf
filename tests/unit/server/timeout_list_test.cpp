#include "server/timeout_list.hpp"

#include <doctest/doctest.h>

using namespace httpfs::server;

TEST_CASE("timeout lists stay sorted and pop what expired") {
  TimeoutList idle(100), head(50);
  TimeoutNode a, b, c;
  idle.arm(a, 0);   // 100
  idle.arm(b, 10);  // 110
  head.arm(c, 20);  // 70
  CHECK(idle.size() == 2);
  CHECK(idle.pop_expired(99) == nullptr);
  CHECK(head.pop_expired(70) == &c);
  idle.arm(a, 30);  // re-armed: moves to the tail, 130
  CHECK(idle.front() == &b);
  CHECK(idle.pop_expired(120) == &b);
  CHECK(idle.pop_expired(120) == nullptr);
  head.arm(a, 40);  // moved between lists
  CHECK(idle.empty());
  CHECK(head.size() == 1);
  TimeoutList::unlink(a);
  CHECK(head.empty());
  TimeoutList::unlink(a);  // harmless twice
}
