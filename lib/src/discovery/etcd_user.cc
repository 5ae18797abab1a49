#include "discovery/etcd_user.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace etcdisc::internal {
namespace {

// The first line of `path`, without its newline (and a '\r' before it).
absl::StatusOr<std::string> ReadPassword(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ClientOptions::auth.password_file = ", path,
                     ": cannot read it, or it is empty"));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  absl::StatusOr<std::string> password(line);
  WipeSecret(&line);
  return password;
}

}  // namespace

absl::StatusOr<std::optional<EtcdCredentials>> LoadCredentials(
    const AuthOptions& auth) {
  if (auth.empty()) return std::nullopt;
  if (!auth.password.empty() && !auth.password_file.empty()) {
    return absl::InvalidArgumentError(
        "invalid ClientOptions::auth: password and password_file are both "
        "set; give one");
  }
  if (auth.user.empty()) {
    return absl::InvalidArgumentError(
        "invalid ClientOptions::auth: a password is given but no user");
  }
  EtcdCredentials credentials;
  credentials.user = auth.user;
  if (!auth.password_file.empty()) {
    absl::StatusOr<std::string> read = ReadPassword(auth.password_file);
    if (!read.ok()) return read.status();
    credentials.password = *read;
    WipeSecret(&*read);
  } else {
    credentials.password = auth.password;
  }
  if (credentials.password.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ClientOptions::auth: etcd user \"", auth.user,
        "\" has no password (give password or password_file)"));
  }
  return credentials;
}

ClientOptions WithoutSecrets(ClientOptions options) {
  WipeSecret(&options.auth.password);
  WipeSecret(&options.tls.key_pem);
  return options;
}

}  // namespace etcdisc::internal
