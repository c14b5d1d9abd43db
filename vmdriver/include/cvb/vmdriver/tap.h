// Tap devices for VM networking: created (persistent, exclusive) by us, addressed on the host
// side, and deleted by the destructor. Names are cvb-tap<N>; tap N gets the /30 10.213.x.y with
// the host at .1 and the guest at .2 of its block, so concurrent VMs never share a subnet.
#pragma once

#include <string>

#include "cvb/common/result.h"

namespace cvb::vmdriver {

class Tap {
 public:
  Tap() = default;
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;
  Tap(Tap&& o) noexcept;
  Tap& operator=(Tap&& o) noexcept;
  ~Tap() { (void)Delete(); }

  // Creates the first free cvb-tap<N>, assigns its host address and brings it up.
  static Result<Tap> Create();

  const std::string& name() const { return name_; }
  int index() const { return index_; }
  std::string host_ip() const;
  std::string guest_ip() const;
  int prefix_len() const { return 30; }
  // 52:54:00:cb:xx:yy, unique per index.
  std::string guest_mac() const;
  Result<void> Delete();

 private:
  std::string name_;
  int index_ = -1;
};

// Whether a network interface of this name exists.
bool InterfaceExists(const std::string& name);

}  // namespace cvb::vmdriver
