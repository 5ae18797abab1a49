#include "etcdisc/version.h"

namespace etcdisc {

const char* Version() { return ETCDISC_VERSION_STRING; }

}  // namespace etcdisc
