#include "net/ready_list.hpp"

#include "net/stream.hpp"

namespace httpfs::net {

void ReadyList::init(uv_loop_t* loop) noexcept {
  uv_idle_init(loop, &idle_);
  idle_.data = this;
}

void ReadyList::close(uv_close_cb cb, void* data) noexcept {
  idle_.data = data;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), cb);
}

void ReadyList::post(Stream* s) {
  if (ready_.empty()) uv_idle_start(&idle_, &ReadyList::on_idle);
  ready_.push_back(s);
}

void ReadyList::unpost(Stream* s) noexcept {
  for (Stream*& p : ready_)
    if (p == s) p = nullptr;
}

void ReadyList::on_idle(uv_idle_t* idle) {
  auto* self = static_cast<ReadyList*>(idle->data);
  // By index: resuming one stream may post more (they run next time round) or close others
  // (their entries are nulled).
  const std::size_t n = self->ready_.size();
  for (std::size_t i = 0; i < n; ++i) {
    Stream* s = self->ready_[i];
    self->ready_[i] = nullptr;
    if (s != nullptr) s->resume_posted();
  }
  self->ready_.erase(self->ready_.begin(), self->ready_.begin() + static_cast<std::ptrdiff_t>(n));
  if (self->ready_.empty()) uv_idle_stop(&self->idle_);
}

}  // namespace httpfs::net
