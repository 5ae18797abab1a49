#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/mutex.h"

namespace etcdisc {
namespace internal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kWindow = std::chrono::seconds(10);
constexpr int kLinesPerWindow = 10;

void WriteToStderr(const LogRecord& record) {
  const std::string line = absl::StrCat(
      "etcdisc: ", LogLevelName(record.level), ": ", record.message, "\n");
  // One write() so lines from several threads do not interleave.
  const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

// How often one place logged in its current window.
struct Place {
  Clock::time_point window_start;
  int lines = 0;
  int dropped = 0;
};

struct Logger {
  Mutex mu;
  std::shared_ptr<const LogSink> sink ABSL_GUARDED_BY(mu);
  std::function<Clock::time_point()> now ABSL_GUARDED_BY(mu);
  std::map<std::pair<const char*, int>, Place> places ABSL_GUARDED_BY(mu);
};

Logger& TheLogger() {
  static Logger* logger = new Logger;  // Never destroyed: used until exit.
  return *logger;
}

std::atomic<int> g_level{static_cast<int>(LogLevel::kWarning)};

}  // namespace

void Log(LogLevel level, const char* file, int line,
         absl::string_view message) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  Logger& logger = TheLogger();
  std::shared_ptr<const LogSink> sink;
  int dropped = 0;
  {
    MutexLock lock(&logger.mu);
    const Clock::time_point now = logger.now ? logger.now() : Clock::now();
    Place& place = logger.places[{file, line}];
    if (place.lines == 0 || now - place.window_start >= kWindow) {
      dropped = place.dropped;
      place = Place{now, 0, 0};
    }
    if (++place.lines > kLinesPerWindow) {
      ++place.dropped;
      return;
    }
    sink = logger.sink;
  }
  std::string text;
  if (dropped > 0) {
    text = absl::StrCat(message, " (", dropped,
                        " more like it in the last 10 s were dropped)");
    message = text;
  }
  LogRecord record;
  record.level = level;
  record.message = message;
  record.file = file;
  record.line = line;
  if (sink) {
    (*sink)(record);
  } else {
    WriteToStderr(record);
  }
}

void SetLogClockForTesting(std::function<Clock::time_point()> now) {
  Logger& logger = TheLogger();
  MutexLock lock(&logger.mu);
  logger.now = std::move(now);
}

void ResetLogLimitsForTesting() {
  Logger& logger = TheLogger();
  MutexLock lock(&logger.mu);
  logger.places.clear();
}

}  // namespace internal

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                     LogLevel::kError}) {
    if (name == LogLevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void SetLogSink(LogSink sink) {
  internal::Logger& logger = internal::TheLogger();
  auto shared =
      sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  internal::MutexLock lock(&logger.mu);
  logger.sink = std::move(shared);
}

void SetLogLevel(LogLevel level) {
  internal::g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() {
  return static_cast<LogLevel>(
      internal::g_level.load(std::memory_order_relaxed));
}

}  // namespace etcdisc
