#include "test_pki.hpp"

#include <stdexcept>

namespace httpfs::test {

namespace {

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  RunResult r = run(args, std::chrono::seconds(60));
  if (r.status != 0) throw std::runtime_error("openssl " + args[1] + " failed: " + r.err);
}

}  // namespace

TestPki::TestPki() {
  make_ca("ca", "/CN=httpfs test CA");
  make_ca("other-ca", "/CN=some other CA");
  dir_.write("index.txt", "");
  dir_.write("serial", "1000\n");
  dir_.mkdir("issued");
  // `openssl ca`, because only it can sign with dates in the past or the future.
  dir_.write("ca.cnf", "[ca]\ndefault_ca = test\n[test]\ndatabase = " + dir_ / "index.txt" +
                           "\nnew_certs_dir = " + dir_ / "issued" +
                           "\nserial = " + dir_ / "serial" +
                           "\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\n"
                           "commonName = supplied\n");
  const std::string loopback = "DNS:localhost,IP:127.0.0.1,IP:::1";
  make_leaf("server", loopback, {"-days", "30"});
  make_leaf("other-host", "DNS:other.example", {"-days", "30"});
  make_leaf("expired", loopback, {"-startdate", "20200101000000Z", "-enddate", "20200201000000Z"});
  make_leaf("future", loopback, {"-startdate", "20990101000000Z", "-enddate", "20991231000000Z"});
}

void TestPki::make_ca(const std::string& name, const std::string& subject) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", key(name), "-out", dir_ / (name + ".crt"), "-days", "30", "-subj", subject,
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
}

void TestPki::make_leaf(const std::string& name, const std::string& san,
                        const std::vector<std::string>& dates) {
  const std::string csr = dir_ / (name + ".csr");
  const std::string ext = dir_ / (name + ".ext");
  write_file(ext, "subjectAltName = " + san +
                      "\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n");
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", key(name), "-out", csr, "-subj", "/CN=" + name});
  std::vector<std::string> args = {"ca",    "-batch",  "-notext",  "-config",  dir_ / "ca.cnf",
                                   "-cert", ca_cert(), "-keyfile", key("ca"),  "-in",
                                   csr,     "-out",    cert(name), "-extfile", ext};
  args.insert(args.end(), dates.begin(), dates.end());
  openssl(args);
}

}  // namespace httpfs::test
