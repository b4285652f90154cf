// The pure parts of folder downloads: which format a query asks for, and the download's name.
#include "server/archive.hpp"

#include <doctest/doctest.h>

using namespace httpfs::server;

TEST_CASE("?download= picks the archive format") {
  CHECK(archive_format("") == ArchiveFormat::None);
  CHECK(archive_format("sort=name") == ArchiveFormat::None);
  CHECK(archive_format("download=zip") == ArchiveFormat::Zip);
  CHECK(archive_format("format=json&download=tar") == ArchiveFormat::Tar);
  CHECK(archive_format("download=ZIP") == ArchiveFormat::Unknown);
  CHECK(archive_format("download=") == ArchiveFormat::Unknown);
  CHECK(archive_format("download=7z") == ArchiveFormat::Unknown);
}

TEST_CASE("Content-Disposition: an ASCII filename and the exact one in filename*") {
  CHECK(content_disposition("photos.zip") ==
        "attachment; filename=\"photos.zip\"; filename*=UTF-8''photos.zip");
  CHECK(content_disposition("caf\xc3\xa9 2024.tar") ==
        "attachment; filename=\"caf__ 2024.tar\"; filename*=UTF-8''caf%C3%A9%202024.tar");
  // Quotes, backslashes and controls cannot break out of the quoted string.
  CHECK(content_disposition("a\"b\\c\r\n.zip") ==
        "attachment; filename=\"a_b_c__.zip\"; filename*=UTF-8''a%22b%5Cc%0D%0A.zip");
}
