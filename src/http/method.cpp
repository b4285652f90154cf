#include "http/method.hpp"

namespace httpfs::http {

Method method_from_token(std::string_view t) noexcept {
  // Switch on length first: one or two comparisons for any method.
  switch (t.size()) {
    case 3:
      if (t == "GET") return Method::Get;
      if (t == "PUT") return Method::Put;
      break;
    case 4:
      if (t == "HEAD") return Method::Head;
      if (t == "POST") return Method::Post;
      if (t == "COPY") return Method::Copy;
      if (t == "MOVE") return Method::Move;
      if (t == "LOCK") return Method::Lock;
      break;
    case 5:
      if (t == "TRACE") return Method::Trace;
      if (t == "PATCH") return Method::Patch;
      if (t == "MKCOL") return Method::Mkcol;
      if (t == "QUERY") return Method::Query;
      break;
    case 6:
      if (t == "DELETE") return Method::Delete;
      if (t == "UNLOCK") return Method::Unlock;
      if (t == "SEARCH") return Method::Search;
      break;
    case 7:
      if (t == "CONNECT") return Method::Connect;
      if (t == "OPTIONS") return Method::Options;
      break;
    case 8:
      if (t == "PROPFIND") return Method::Propfind;
      break;
    case 9:
      if (t == "PROPPATCH") return Method::Proppatch;
      break;
    default:
      break;
  }
  return Method::Unknown;
}

std::string_view method_name(Method m) noexcept {
  switch (m) {
    case Method::Get:
      return "GET";
    case Method::Head:
      return "HEAD";
    case Method::Post:
      return "POST";
    case Method::Put:
      return "PUT";
    case Method::Delete:
      return "DELETE";
    case Method::Connect:
      return "CONNECT";
    case Method::Options:
      return "OPTIONS";
    case Method::Trace:
      return "TRACE";
    case Method::Patch:
      return "PATCH";
    case Method::Propfind:
      return "PROPFIND";
    case Method::Proppatch:
      return "PROPPATCH";
    case Method::Mkcol:
      return "MKCOL";
    case Method::Copy:
      return "COPY";
    case Method::Move:
      return "MOVE";
    case Method::Lock:
      return "LOCK";
    case Method::Unlock:
      return "UNLOCK";
    case Method::Search:
      return "SEARCH";
    case Method::Query:
      return "QUERY";
    case Method::Unknown:
      break;
  }
  return "";
}

}  // namespace httpfs::http
