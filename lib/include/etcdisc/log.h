// Where etcdisc's log lines go. By default, warnings and errors are written
// to stderr as "etcdisc: warning: <message>". An application can route them
// to its own logger and choose the level.
//
//   etcdisc::SetLogSink([](const etcdisc::LogRecord& r) {
//     my_logger.Log(r.level, r.file, r.line, r.message);
//   });
//
// Lines never carry secrets (passwords, tokens, record contents), only keys,
// revisions and why. Repeats are limited: at most 10 lines per 10 s from one
// place in etcdisc's code; the next line from there after the window says how
// many were dropped (a flapping etcd must not print 1,000 lines a second).
#ifndef ETCDISC_LOG_H_
#define ETCDISC_LOG_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace etcdisc {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error".
absl::string_view LogLevelName(LogLevel level);
// The level named `name` (as LogLevelName gives it); false if none is.
bool ParseLogLevel(absl::string_view name, LogLevel* level);

struct LogRecord {
  LogLevel level = LogLevel::kInfo;
  absl::string_view message;  // Valid during the call only.
  const char* file = "";      // etcdisc's source file and line.
  int line = 0;
};

// Called for every line at or above the log level, from whichever etcdisc
// or gRPC thread logs it, possibly from several threads at once: it must be
// thread-safe, should be quick, and must not call etcdisc.
using LogSink = std::function<void(const LogRecord& record)>;

// Process-wide. nullptr restores the default sink (stderr). Safe to call at
// any time; a line being logged meanwhile goes to the old sink or the new,
// so the old one may still run just after this returns: keep what it uses
// alive (or log to something that outlives it).
void SetLogSink(LogSink sink);
// Lines below `level` are dropped. Default: kWarning.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

}  // namespace etcdisc

#endif  // ETCDISC_LOG_H_
