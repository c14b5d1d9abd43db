#include "cvb/common/result.h"

#include <cstring>

namespace cvb {

std::string Error::message() const {
  if (err == 0) return context;
  return context + ": " + std::strerror(err);
}

}  // namespace cvb
