#include "net/byte_buffer.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <string_view>

using httpfs::net::ByteBuffer;

namespace {

// Writes `bytes` at the tail (which must have room) and commits them, as a read would.
void put(ByteBuffer& b, std::string_view bytes) {
  REQUIRE(b.tail_room() >= bytes.size());
  std::memcpy(b.tail(), bytes.data(), bytes.size());
  b.commit(bytes.size());
}

// The offset of the held bytes from the start of the storage.
std::size_t front_offset(const ByteBuffer& b) {
  return b.capacity() - b.tail_room() - b.size();
}

}  // namespace

TEST_CASE("a new buffer is empty and has no storage") {
  ByteBuffer b;
  CHECK(b.empty());
  CHECK(b.size() == 0);
  CHECK(b.capacity() == 0);
  CHECK(b.tail_room() == 0);
  CHECK(b.full());  // no room without make_room
  CHECK(b.view().empty());
}

TEST_CASE("commit, view and consume") {
  ByteBuffer b;
  REQUIRE(b.make_room(16, 64));
  put(b, "hello");
  CHECK(b.view() == "hello");
  CHECK(b.size() == 5);
  CHECK(b.tail_room() == 11);
  put(b, " world");
  CHECK(b.view() == "hello world");
  b.consume(6);
  CHECK(b.view() == "world");
  CHECK(std::string_view(b.data(), b.size()) == "world");
  CHECK(front_offset(b) == 6);  // consumed bytes are not moved
  CHECK(b.tail_room() == 5);
  b.consume(0);
  CHECK(b.view() == "world");
}

TEST_CASE("consuming everything starts over at offset 0") {
  ByteBuffer b;
  REQUIRE(b.make_room(16, 64));
  put(b, "abcdefghij");
  b.consume(4);
  CHECK(front_offset(b) == 4);
  b.consume(6);
  CHECK(b.empty());
  CHECK(front_offset(b) == 0);
  CHECK(b.tail_room() == 16);  // the whole capacity again, without compaction
  CHECK(b.capacity() == 16);
  put(b, "xyz");
  CHECK(b.view() == "xyz");
}

TEST_CASE("make_room: first allocation, compaction, doubling, full at max") {
  ByteBuffer b;
  REQUIRE(b.make_room(8, 32));
  CHECK(b.capacity() == 8);
  CHECK(b.tail_room() == 8);
  CHECK(b.empty());

  // Room left: nothing changes.
  put(b, "0123");
  REQUIRE(b.make_room(8, 32));
  CHECK(b.capacity() == 8);
  CHECK(b.view() == "0123");

  // Full with a consumed front: compacted, not grown.
  put(b, "4567");
  CHECK(b.full());
  b.consume(3);
  REQUIRE(b.make_room(8, 32));
  CHECK(b.capacity() == 8);
  CHECK(b.view() == "34567");
  CHECK(front_offset(b) == 0);
  CHECK(b.tail_room() == 3);

  // Full from the front: doubled, the held bytes kept.
  put(b, "89a");
  CHECK(b.full());
  REQUIRE(b.make_room(8, 32));
  CHECK(b.capacity() == 16);
  CHECK(b.view() == "3456789a");
  CHECK(b.tail_room() == 8);
  put(b, "bcdefghi");
  REQUIRE(b.make_room(8, 32));
  CHECK(b.capacity() == 32);
  CHECK(b.view() == "3456789abcdefghi");
  put(b, std::string(16, 'z'));

  // Full at max: no more.
  CHECK(b.full());
  CHECK_FALSE(b.make_room(8, 32));
  CHECK(b.capacity() == 32);
  CHECK(b.size() == 32);
  CHECK(b.view() == "3456789abcdefghi" + std::string(16, 'z'));
}

TEST_CASE("make_room: doubling stops at max, and initial is capped by max") {
  ByteBuffer b;
  REQUIRE(b.make_room(8, 12));
  put(b, "12345678");
  REQUIRE(b.make_room(8, 12));
  CHECK(b.capacity() == 12);  // not 16
  put(b, "9abc");
  CHECK_FALSE(b.make_room(8, 12));

  ByteBuffer c;
  REQUIRE(c.make_room(100, 10));
  CHECK(c.capacity() == 10);
}

TEST_CASE("reserve grows and keeps the bytes") {
  ByteBuffer b;
  b.reserve(10);
  CHECK(b.capacity() == 4096);  // the smallest growth
  CHECK(b.tail_room() >= 10);
  put(b, "keep me");
  b.reserve(5000);
  CHECK(b.capacity() == 8192);
  CHECK(b.tail_room() >= 5000);
  CHECK(b.view() == "keep me");
  b.reserve(100000);
  CHECK(b.tail_room() >= 100000);
  CHECK(b.view() == "keep me");

  // Enough room already: nothing moves.
  const std::size_t cap = b.capacity();
  const char* before = b.data();
  b.reserve(10);
  CHECK(b.capacity() == cap);
  CHECK(b.data() == before);
}

TEST_CASE("reserve compacts when the consumed front makes enough room") {
  ByteBuffer b;
  b.reserve(4096);
  REQUIRE(b.capacity() == 4096);
  put(b, std::string(4000, 'a') + "tail");
  b.consume(4000);
  CHECK(b.tail_room() == 92);
  b.reserve(1000);
  CHECK(b.capacity() == 4096);  // compacted, not grown
  CHECK(front_offset(b) == 0);
  CHECK(b.view() == "tail");
  CHECK(b.tail_room() == 4092);
}

TEST_CASE("grow_to sets a minimum capacity and keeps the held bytes at the front") {
  ByteBuffer b;
  b.grow_to(100);
  CHECK(b.capacity() == 100);
  CHECK(b.empty());
  put(b, "0123456789");
  b.consume(4);
  b.grow_to(50);  // smaller: nothing changes
  CHECK(b.capacity() == 100);
  CHECK(front_offset(b) == 4);
  b.grow_to(300);
  CHECK(b.capacity() == 300);
  CHECK(b.view() == "456789");
  CHECK(front_offset(b) == 0);
  CHECK(b.tail_room() == 294);
}

TEST_CASE("append copies bytes in, growing as needed") {
  ByteBuffer b;
  b.append("");
  CHECK(b.empty());
  b.append("abc");
  CHECK(b.view() == "abc");
  const std::string big(10000, 'x');
  b.append(big);
  CHECK(b.size() == 10003);
  CHECK(b.view() == "abc" + big);
  b.consume(3);
  b.append("!");
  CHECK(b.view() == big + "!");
}

TEST_CASE("clear keeps the storage unless it is larger than keep") {
  ByteBuffer b;
  b.grow_to(1000);
  b.append("bytes");
  b.consume(2);
  b.clear(1000);  // not larger: kept
  CHECK(b.empty());
  CHECK(b.capacity() == 1000);
  CHECK(front_offset(b) == 0);
  CHECK(b.tail_room() == 1000);

  b.append("more");
  b.clear(999);  // larger: freed
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
  CHECK(b.tail_room() == 0);

  // Usable again afterwards.
  REQUIRE(b.make_room(8, 8));
  CHECK(b.capacity() == 8);
}

TEST_CASE("release frees the storage") {
  ByteBuffer b;
  b.append("something");
  REQUIRE(b.capacity() > 0);
  b.release();
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
  CHECK(b.tail_room() == 0);
  b.release();  // harmless twice
  b.append("again");
  CHECK(b.view() == "again");
}

TEST_CASE("shrink_to keeps the held bytes and frees what a burst left") {
  ByteBuffer b;
  b.reserve(256 * 1024);
  b.append(std::string(100, 'a') + "held");
  b.consume(100);
  REQUIRE(b.capacity() >= 256 * 1024);
  b.shrink_to(16);
  CHECK(b.view() == "held");
  CHECK(b.capacity() == 16);  // what is held, or n, whichever is more
  b.shrink_to(2);
  CHECK(b.capacity() == 4);
  CHECK(b.view() == "held");
  b.shrink_to(64);  // never grows
  CHECK(b.capacity() == 4);
  b.consume(4);
  b.shrink_to(0);  // empty: nothing kept
  CHECK(b.capacity() == 0);
}
