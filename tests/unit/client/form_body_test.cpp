#include "client/form_body.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::client;

TEST_CASE("-F fields: the three kinds, ;type= and ;filename=, and what is refused") {
  std::string error;
  auto f = parse_form_field("name=Ann Lee", error);
  REQUIRE(f);
  CHECK(f->kind == FormField::Kind::Text);
  CHECK(f->name == "name");
  CHECK(f->value == "Ann Lee");
  CHECK(f->filename.empty());
  f = parse_form_field("photo=@dir/me.png", error);
  REQUIRE(f);
  CHECK(f->kind == FormField::Kind::File);
  CHECK(f->value == "dir/me.png");
  CHECK(f->filename == "me.png");
  f = parse_form_field("doc=@a.txt;filename=b.md;type=text/markdown", error);
  REQUIRE(f);
  CHECK(f->value == "a.txt");
  CHECK(f->filename == "b.md");
  CHECK(f->type == "text/markdown");
  f = parse_form_field("t=<notes.txt", error);
  REQUIRE(f);
  CHECK(f->kind == FormField::Kind::FileText);
  CHECK(f->filename.empty());
  f = parse_form_field("v=a;b;type=x/y", error);
  REQUIRE(f);
  CHECK(f->value == "a;b");
  CHECK(f->type == "x/y");
  f = parse_form_field("empty=", error);
  REQUIRE(f);
  CHECK(f->value.empty());
  for (const char* bad : {"novalue", "=x", "f=@", "f=<", "f=@a;type=", "f=@a;type=x\r\ny"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_form_field(bad, error));
  }
}

TEST_CASE("-F part heads: quoted names made safe, a Content-Type for files") {
  std::string error;
  CHECK(part_head("B", *parse_form_field("name=x", error)) ==
        "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n");
  CHECK(part_head("B", *parse_form_field("f=@dir/a.PNG", error)) ==
        "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.PNG\"\r\n"
        "Content-Type: image/png\r\n\r\n");
  CHECK(part_head("B", *parse_form_field("f=@x.bin;type=app/x", error)) ==
        "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
        "Content-Type: app/x\r\n\r\n");
  CHECK(part_head("B", *parse_form_field("a\"b=@c\"d", error)) ==
        "--B\r\nContent-Disposition: form-data; name=\"a%22b\"; filename=\"c%22d\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n");
  CHECK(guess_type("a.jpeg") == "image/jpeg");
  CHECK(guess_type("index.HTML") == "text/html");
  CHECK(guess_type("txt") == "application/octet-stream");
}
