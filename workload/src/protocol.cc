#include "cvb/workload/protocol.h"

#include <cstdlib>

namespace cvb::workload {

std::optional<double> Message::Number(const std::string& key) const {
  auto it = fields.find(key);
  if (it == fields.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != 0) return std::nullopt;
  return v;
}

std::optional<Message> ParseLine(const std::string& line) {
  size_t at = line.find("CVB ");
  if (at == std::string::npos) return std::nullopt;
  size_t kind_start = at + 4;
  size_t kind_end = line.find(' ', kind_start);
  if (kind_end == std::string::npos) kind_end = line.size();
  Message m;
  m.kind = line.substr(kind_start, kind_end - kind_start);
  if (m.kind != "READY" && m.kind != "RESULT" && m.kind != "ERROR" && m.kind != "DONE" &&
      m.kind != "FINGERPRINT")
    return std::nullopt;
  std::string rest = kind_end < line.size() ? line.substr(kind_end + 1) : "";
  if (m.kind == "ERROR") {
    // msg= takes the rest of the line, spaces included.
    if (rest.rfind("msg=", 0) == 0) m.fields["msg"] = rest.substr(4);
    else m.fields["msg"] = rest;
    return m;
  }
  size_t pos = 0;
  while (pos < rest.size()) {
    size_t end = rest.find(' ', pos);
    if (end == std::string::npos) end = rest.size();
    std::string token = rest.substr(pos, end - pos);
    size_t eq = token.find('=');
    if (eq != std::string::npos && eq > 0) m.fields[token.substr(0, eq)] = token.substr(eq + 1);
    pos = end + 1;
  }
  return m;
}

std::string FormatLine(const Message& message) {
  std::string line = "CVB " + message.kind;
  if (message.kind == "ERROR") return line + " msg=" + message.Get("msg");
  for (const auto& [k, v] : message.fields) line += " " + k + "=" + v;
  return line;
}

}  // namespace cvb::workload
