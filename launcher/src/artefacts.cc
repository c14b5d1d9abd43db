#include "cvb/launcher/artefacts.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/launcher/launcher.h"

namespace cvb::launcher {
namespace {

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

// config.json -> config-2.json; qemu-argv.txt -> qemu-argv-2.txt; name -> name-2.
std::string Numbered(const std::string& name, int n) {
  if (n <= 1) return name;
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + "-" + std::to_string(n);
  return name.substr(0, dot) + "-" + std::to_string(n) + name.substr(dot);
}

}  // namespace

Result<std::string> ArtefactRecorder::Record(const std::string& name, const std::string& content,
                                             const std::vector<std::string>& per_instance,
                                             const std::string& what) {
  if (dir_.empty()) return std::string();
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    return Failure("artefact name '" + name + "': expected a plain file name");
  // Longest first, so that a value containing another (a path containing the id) is replaced
  // whole.
  std::vector<std::string> values = per_instance;
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string shape = content;
  for (const auto& v : values) shape = ReplaceAll(shape, v, "<instance>");
  std::lock_guard<std::mutex> lock(mu_);
  if (!shapes_.insert(name + '\0' + shape).second) return std::string();
  std::string file = Numbered(name, ++counts_[name]);
  std::string path = dir_ + "/" + file;
  auto written = MakeDirs(dir_);
  if (written) written = WriteFile(path, content);
  if (!written) {
    // Not recorded: a later instance of the same shape may try again.
    shapes_.erase(name + '\0' + shape);
    --counts_[name];
    return written.error().wrap("record " + path);
  }
  index_.push_back({file, what, per_instance});
  CVB_TRY(WriteIndex());
  return path;
}

Result<void> ArtefactRecorder::WriteIndex() {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : index_)
    j.push_back({{"file", e.file}, {"request", e.what}, {"per_instance_values", e.per_instance}});
  return WriteFileAtomic(dir_ + "/index.json", j.dump(2) + "\n");
}

std::string RequestSummary(const WorkloadRequest& request) {
  std::string s = "mode " + request.mode;
  for (const auto& a : request.args) s += " " + a;
  if (request.needs_network) s += ", network";
  if (request.needs_disk) s += ", /data";
  if (request.memory_bytes) s += ", memory " + std::to_string(request.memory_bytes >> 20) + " MiB";
  return s;
}

std::string ArtefactDirName(const std::string& display_name) {
  std::string s = display_name;
  std::replace(s.begin(), s.end(), '/', '-');
  return s;
}

}  // namespace cvb::launcher
