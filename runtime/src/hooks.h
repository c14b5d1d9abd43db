// OCI hooks: each runs with the container's state JSON on stdin, its own args and env (none
// given: cvrun's environment, as runc), and an optional timeout; a failing prestart/createRuntime/createContainer/startContainer hook fails
// the operation, poststart/poststop failures are logged only.
#pragma once

#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {

Result<void> RunHooks(const std::vector<Hook>& hooks, const std::string& kind,
                      const std::string& state_json);
// Runs every hook even when some fail (poststart, poststop: the spec says warn and go on);
// returns the failures.
std::vector<Error> RunHooksWarn(const std::vector<Hook>& hooks, const std::string& kind,
                                const std::string& state_json);

}  // namespace cvb::runtime
