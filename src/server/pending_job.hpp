// A Job on the loop's worker pool (libuv's thread pool): run() on a worker thread, then the
// owner hears of it on the loop thread and lets the job answer.
//
// Lifetime: heap; freed after its after-work callback, together with the job. An owner that
// goes away first calls detach(): the job still runs to its end (an upload whose body
// arrived whole is committed), but nobody is told.
#pragma once

#include <uv.h>

#include <memory>

#include "server/handler.hpp"

namespace httpfs::server {

class PendingJob {
 public:
  class Owner {
   public:
    virtual void on_job_done(Job& job) = 0;

   protected:
    ~Owner() = default;
  };

  static PendingJob* start(uv_loop_t* loop, std::unique_ptr<Job> job, Owner& owner);
  void detach() noexcept { owner_ = nullptr; }

 private:
  PendingJob(std::unique_ptr<Job> job, Owner& owner) : job_(std::move(job)), owner_(&owner) {}
  static void on_work(uv_work_t* req);
  static void on_after(uv_work_t* req, int status);

  uv_work_t req_{};
  std::unique_ptr<Job> job_;
  Owner* owner_;
};

}  // namespace httpfs::server
