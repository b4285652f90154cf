#include "client/client.hpp"

#include <cstdio>

#include "client/batch.hpp"

namespace httpfs::client {

int run(const ClientOptions& options) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int code;
  {
    Batch batch(&loop, options);
    code = batch.run();
    uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks of anything left
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    std::fprintf(stderr, "httpc: internal error: the event loop did not close cleanly\n");
    return kInternal;
  }
  return code;
}

}  // namespace httpfs::client
