#include "cvb/vmdriver/libvirt.h"

#include <libvirt/virterror.h>
#include <signal.h>

#include <csignal>
#include <mutex>

namespace cvb::vmdriver {
namespace {

// libvirt's default handler prints every error to stderr, including ones we expect and handle
// (a domain that is already gone). Errors are reported through Result instead.
void IgnoreError(void*, virErrorPtr) {}

std::string FormatVersion(unsigned long v) {
  return std::to_string(v / 1000000) + "." + std::to_string((v / 1000) % 1000) + "." +
         std::to_string(v % 1000);
}

}  // namespace

void InitLibvirt() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A write to the socket of a libvirtd that went away raises SIGPIPE, which would kill the
    // whole benchmark; libvirt asks its clients to ignore it and report the EPIPE instead.
    struct sigaction old {};
    if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);
    virInitialize();
    virSetErrorFunc(nullptr, IgnoreError);
  });
}

Error LibvirtError(const std::string& context) {
  virErrorPtr e = virGetLastError();
  std::string msg = (e && e->message) ? e->message : "unknown libvirt error";
  int code = e ? e->code : 0;
  virResetLastError();
  return Failure(context + ": " + msg + " (libvirt error " + std::to_string(code) + ")");
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    reset();
    conn_ = o.release();
  }
  return *this;
}

void Connection::reset() {
  if (conn_) virConnectClose(conn_);
  conn_ = nullptr;
}

Connection Connection::Share() const {
  if (!conn_) return Connection();
  virConnectRef(conn_);
  return Connection(conn_);
}

Result<Connection> Connection::Open(const std::string& uri) {
  InitLibvirt();
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (!c) return LibvirtError("virConnectOpen " + uri);
  return Connection(c);
}

Result<Domain> Connection::CreateTransient(const std::string& xml, unsigned int flags) {
  virDomainPtr d = virDomainCreateXML(conn_, xml.c_str(), flags);
  if (!d) return LibvirtError("virDomainCreateXML");
  return Domain(d);
}

Result<Domain> Connection::Lookup(const std::string& name) {
  virDomainPtr d = virDomainLookupByName(conn_, name.c_str());
  if (!d) return LibvirtError("virDomainLookupByName " + name);
  return Domain(d);
}

Result<std::vector<std::string>> Connection::ActiveDomainNames() {
  virDomainPtr* doms = nullptr;
  int n = virConnectListAllDomains(conn_, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) return LibvirtError("virConnectListAllDomains");
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    Domain d(doms[i]);  // owns and frees each entry
    names.push_back(d.Name());
  }
  free(doms);  // NOLINT: allocated by libvirt with malloc
  return names;
}

Result<std::string> Connection::LibvirtVersion() {
  unsigned long v = 0;
  if (virConnectGetLibVersion(conn_, &v) < 0) return LibvirtError("virConnectGetLibVersion");
  return "libvirt " + FormatVersion(v);
}

Result<std::string> Connection::HypervisorVersion() {
  unsigned long v = 0;
  if (virConnectGetVersion(conn_, &v) < 0) return LibvirtError("virConnectGetVersion");
  const char* type = virConnectGetType(conn_);
  return std::string(type ? type : "hypervisor") + " " + FormatVersion(v);
}

bool Connection::Alive() { return conn_ && virConnectIsAlive(conn_) == 1; }

Domain& Domain::operator=(Domain&& o) noexcept {
  if (this != &o) {
    reset();
    dom_ = o.release();
  }
  return *this;
}

void Domain::reset() {
  if (dom_) virDomainFree(dom_);
  dom_ = nullptr;
}

std::string Domain::Name() const {
  const char* n = dom_ ? virDomainGetName(dom_) : nullptr;
  return n ? n : "";
}

Result<int> Domain::State() {
  int state = 0, reason = 0;
  if (virDomainGetState(dom_, &state, &reason, 0) < 0)
    return LibvirtError("virDomainGetState " + Name());
  return state;
}

bool Domain::IsActive() {
  int r = virDomainIsActive(dom_);
  if (r < 0) virResetLastError();  // a transient domain that ended is simply gone
  return r == 1;
}

Result<void> Domain::Destroy() {
  if (virDomainDestroy(dom_) == 0) return Ok();
  virErrorPtr e = virGetLastError();
  // Already stopped (or gone, for a transient domain) is what we wanted.
  if (e && (e->code == VIR_ERR_OPERATION_INVALID || e->code == VIR_ERR_NO_DOMAIN)) {
    virResetLastError();
    return Ok();
  }
  return LibvirtError("virDomainDestroy " + Name());
}

Result<std::string> Domain::XmlDesc() {
  char* x = virDomainGetXMLDesc(dom_, 0);
  if (!x) return LibvirtError("virDomainGetXMLDesc " + Name());
  std::string s(x);
  free(x);  // NOLINT: allocated by libvirt
  return s;
}

}  // namespace cvb::vmdriver
