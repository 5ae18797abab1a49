#include "etcd/types.h"

#include <utility>

namespace etcdisc::internal {

std::string PrefixRangeEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Compare Compare::Missing(std::string key) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kCreateRevision;
  c.result = Result::kEqual;
  c.number = 0;
  return c;
}

Compare Compare::ModRevision(std::string key, Result result, int64_t revision) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kModRevision;
  c.result = result;
  c.number = revision;
  return c;
}

Compare Compare::Value(std::string key, Result result, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kValue;
  c.result = result;
  c.value = std::move(value);
  return c;
}

Compare Compare::Lease(std::string key, Result result, int64_t lease) {
  Compare c;
  c.key = std::move(key);
  c.target = Target::kLease;
  c.result = result;
  c.number = lease;
  return c;
}

TxnOp TxnOp::Range(RangeRequest r) {
  TxnOp op;
  op.kind = Kind::kRange;
  op.range = std::move(r);
  return op;
}

TxnOp TxnOp::Put(PutRequest p) {
  TxnOp op;
  op.kind = Kind::kPut;
  op.put = std::move(p);
  return op;
}

TxnOp TxnOp::Delete(DeleteRequest d) {
  TxnOp op;
  op.kind = Kind::kDelete;
  op.del = std::move(d);
  return op;
}

}  // namespace etcdisc::internal
