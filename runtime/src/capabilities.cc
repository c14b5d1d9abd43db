#include <sys/capability.h>

#include "security.h"

namespace cvb::runtime {

Result<CapabilityMasks> ComputeCapabilities(const std::optional<Capabilities>& caps) {
  CapabilityMasks masks;
  masks.last_cap = static_cast<int>(cap_max_bits()) - 1;
  if (!caps) return masks;  // no capabilities section: the process gets none
  struct Set {
    const std::vector<std::string>* names;
    uint64_t* mask;
    const char* key;
  } sets[] = {{&caps->bounding, &masks.bounding, "bounding"},
              {&caps->effective, &masks.effective, "effective"},
              {&caps->permitted, &masks.permitted, "permitted"},
              {&caps->inheritable, &masks.inheritable, "inheritable"},
              {&caps->ambient, &masks.ambient, "ambient"}};
  for (const auto& set : sets) {
    for (size_t i = 0; i < set.names->size(); ++i) {
      cap_value_t v;
      if (cap_from_name((*set.names)[i].c_str(), &v) != 0)
        return Failure("process.capabilities." + std::string(set.key) + "[" + std::to_string(i) +
                       "]: unknown capability \"" + (*set.names)[i] + "\"");
      // A capability this kernel does not know cannot be granted; skip it like runc does.
      if (v > masks.last_cap) continue;
      *set.mask |= uint64_t{1} << v;
    }
  }
  return masks;
}

}  // namespace cvb::runtime
