// Early-return helpers for absl::Status and absl::StatusOr.
#ifndef ETCDISC_UTIL_STATUS_MACROS_H_
#define ETCDISC_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ETCDISC_STATUS_CONCAT_INNER_(a, b) a##b
#define ETCDISC_STATUS_CONCAT_(a, b) ETCDISC_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` is not OK.
#define ETCDISC_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::absl::Status etcdisc_status_ = (expr);       \
    if (!etcdisc_status_.ok()) return etcdisc_status_; \
  } while (false)

// `lhs = value of expr`, or returns its status from the enclosing function.
#define ETCDISC_ASSIGN_OR_RETURN(lhs, expr)                                  \
  ETCDISC_ASSIGN_OR_RETURN_IMPL_(                                            \
      ETCDISC_STATUS_CONCAT_(etcdisc_statusor_, __LINE__), lhs, expr)

#define ETCDISC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                    \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // ETCDISC_UTIL_STATUS_MACROS_H_
