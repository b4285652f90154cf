#include "server/pending_job.hpp"

namespace httpfs::server {

PendingJob* PendingJob::start(uv_loop_t* loop, std::unique_ptr<Job> job, Owner& owner) {
  auto* p = new PendingJob(std::move(job), owner);
  p->req_.data = p;
  uv_queue_work(loop, &p->req_, &PendingJob::on_work, &PendingJob::on_after);
  return p;
}

void PendingJob::on_work(uv_work_t* req) {
  static_cast<PendingJob*>(req->data)->job_->run();
}

void PendingJob::on_after(uv_work_t* req, int) {
  auto* self = static_cast<PendingJob*>(req->data);
  if (self->owner_ != nullptr) self->owner_->on_job_done(*self->job_);
  delete self;
}

}  // namespace httpfs::server
