// Where a walk that finds the work of a run (client/mirror.hpp: listings to files to fetch;
// client/upload_tree.hpp: a local tree to files to send) hands it: the run's Batch.
#pragma once

#include <string>

#include "client/options.hpp"

namespace httpfs::client {

class JobSink {
 public:
  // One transfer to run as a URL of the run: its URL, output, and per-URL options.
  virtual void add_job(ClientOptions::Target target) = 0;
  // A step of the walk failed (a listing, a directory to make): the walk goes on.
  virtual void walk_failed(const std::string& url, int code, const std::string& why) = 0;
  // The walk is over: no more add_job() calls.
  virtual void walk_done() = 0;

 protected:
  ~JobSink() = default;
};

}  // namespace httpfs::client
