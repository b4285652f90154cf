#include "server/upload_registry.hpp"

namespace httpfs::server {

void UploadRegistry::claim(std::string_view id, Holder& h) {
  for (auto it = writers_.find(id); it != writers_.end(); it = writers_.find(id)) {
    if (it->second == &h) return;  // already the writer
    // The older writer goes; its interrupt() may claim again, so look once more.
    interrupt(id);
  }
  writers_.emplace(std::string(id), &h);
}

void UploadRegistry::release(std::string_view id, const Holder& h) noexcept {
  const auto it = writers_.find(id);
  if (it != writers_.end() && it->second == &h) writers_.erase(it);
}

void UploadRegistry::interrupt(std::string_view id) {
  const auto it = writers_.find(id);
  if (it == writers_.end()) return;
  Holder* old = it->second;
  // Forgotten first: interrupting may release (or claim again) from inside interrupt().
  writers_.erase(it);
  old->interrupt();
}

}  // namespace httpfs::server
