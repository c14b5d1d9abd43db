// RAII over the libvirt C API. libvirt reports errors through a thread-local "last error" that
// the next call may overwrite and that libvirt also prints to stderr by default: every wrapper
// captures it into a cvb::Error right away, and InitLibvirt() silences the default printer.
#pragma once

#include <libvirt/libvirt.h>

#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::vmdriver {

// Silences libvirt's default error printer (once per process; safe to call repeatedly).
void InitLibvirt();
// The calling thread's last libvirt error as "<context>: <libvirt message>" (and resets it).
Error LibvirtError(const std::string& context);

class Domain;

class Connection {
 public:
  Connection() = default;
  explicit Connection(virConnectPtr c) : conn_(c) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& o) noexcept : conn_(o.release()) {}
  Connection& operator=(Connection&& o) noexcept;
  ~Connection() { reset(); }

  // "qemu:///system", "test:///default", ...
  static Result<Connection> Open(const std::string& uri);

  virConnectPtr get() const { return conn_; }
  explicit operator bool() const { return conn_ != nullptr; }
  virConnectPtr release() {
    virConnectPtr c = conn_;
    conn_ = nullptr;
    return c;
  }
  void reset();
  // Another owner of the same connection (virConnectRef): instances keep the connection their
  // domain was created on alive even if the launcher goes first.
  Connection Share() const;

  // Starts a transient domain (it disappears when it stops). flags: virDomainCreateFlags.
  Result<Domain> CreateTransient(const std::string& xml, unsigned int flags = 0);
  Result<Domain> Lookup(const std::string& name);
  // Names of the active domains (transient domains exist only while active).
  Result<std::vector<std::string>> ActiveDomainNames();
  // "libvirt 9.0.0" (library) and "QEMU 7.2.0" (hypervisor as libvirt reports it).
  Result<std::string> LibvirtVersion();
  Result<std::string> HypervisorVersion();
  bool Alive();

 private:
  virConnectPtr conn_ = nullptr;
};

class Domain {
 public:
  Domain() = default;
  explicit Domain(virDomainPtr d) : dom_(d) {}
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;
  Domain(Domain&& o) noexcept : dom_(o.release()) {}
  Domain& operator=(Domain&& o) noexcept;
  // Frees the handle only; the domain keeps running (Destroy() stops it).
  ~Domain() { reset(); }

  virDomainPtr get() const { return dom_; }
  explicit operator bool() const { return dom_ != nullptr; }
  virDomainPtr release() {
    virDomainPtr d = dom_;
    dom_ = nullptr;
    return d;
  }
  void reset();

  std::string Name() const;
  // virDomainState (VIR_DOMAIN_RUNNING, ...).
  Result<int> State();
  // false once a transient domain has stopped (the handle then refers to nothing).
  bool IsActive();
  // Hard stop (virDomainDestroy). A domain that is already gone counts as destroyed.
  Result<void> Destroy();
  Result<std::string> XmlDesc();

 private:
  virDomainPtr dom_ = nullptr;
};

}  // namespace cvb::vmdriver
