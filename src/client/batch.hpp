// One httpc run: a Session per URL given (one, or several with their own outputs), or per
// file a --mirror or --upload-tree walk finds (client/mirror.hpp, client/upload_tree.hpp),
// one after another or --parallel-max at a
// time with -Z, on one loop. What the URLs share lives here:
// the pool of idle connections (keep-alive reuse per origin), the cookie jar (-b FILE, -c),
// the -D file. The run's exit code is the first failure's in the order the URLs were given;
// with several URLs each failure gets a summary line at the end.
//
// Lifetime: on client::run()'s stack around the loop's run; a Session (with its options) is
// made when it starts and freed once closed (Session::closed()), so a long list of URLs
// holds only the transfers in flight.
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "client/connection_pool.hpp"
#include "client/cookie_jar.hpp"
#include "client/mirror.hpp"
#include "client/options.hpp"
#include "client/session.hpp"
#include "client/upload_tree.hpp"

namespace httpfs::client {

class Batch final : public JobSink {
 public:
  Batch(uv_loop_t* loop, const ClientOptions& options);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // Runs every URL and the loop until they are done: the run's exit code.
  int run();

 private:
  // JobSink
  void add_job(ClientOptions::Target target) override;
  void walk_failed(const std::string& url, int code, const std::string& why) override;
  void walk_done() override;
  // No session runs and none is left to start (nor a listing to read): the pool closes,
  // and the loop ends.
  void maybe_end();
  void print_summary() const;

  struct Job {
    std::size_t index;  // the order of its URL in the run
    ClientOptions options;
    std::unique_ptr<Session> session;
  };
  // -D FILE: opened (truncated) once for the run.
  int open_dump();
  // -b FILE (every one that exists) into the jar: 0 or kLocalFile.
  int load_cookie_files();
  int save_cookie_jar();
  // Starts URLs until --parallel-max run at once (one without -Z) or none are left.
  void start_more();
  void on_session_done(Session& s);
  void free_closed();
  void record(std::size_t index, std::string url, int code, const std::string& error);

  uv_loop_t* loop_;
  const ClientOptions& o_;
  std::deque<ClientOptions::Target> waiting_;  // not started yet, in order
  std::size_t total_ = 0;                      // URLs of the run so far
  std::size_t next_ = 0;                       // URLs started: the next one's index
  std::size_t running_ = 0;                    // sessions started and not done
  std::list<Job> jobs_;                        // started, not yet freed
  ConnectionPool pool_;
  std::unique_ptr<CookieJar> jar_;
  int dump_fd_ = -1;
  RunShared shared_;
  std::unique_ptr<Mirror> mirror_;
  std::unique_ptr<UploadTree> upload_tree_;
  std::size_t fetched_ = 0;       // sessions that ended well, but for 304s
  std::size_t not_modified_ = 0;  // --mirror: 304s, files that had not changed
  std::size_t removed_ = 0;       // --delete
  bool ended_ = false;
  struct Failure {
    std::size_t index;  // the order of the report
    std::string url;
    int code;
    std::string error;
  };
  std::vector<Failure> failures_;
};

}  // namespace httpfs::client
