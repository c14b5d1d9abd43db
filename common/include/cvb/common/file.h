// Small file helpers that return Result and name the path on failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/result.h"

namespace cvb {

Result<std::string> ReadFile(const std::string& path);
Result<void> WriteFile(const std::string& path, std::string_view data, int mode = 0644);
// Writes to path.tmp then renames: readers never see a half-written file.
Result<void> WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
// WriteFileAtomic that survives a power loss too: the temporary file is fsynced before the rename
// and the directory after it, so the path holds either the old or the new data, whole, on disk.
// On failure (ENOSPC...) the old file is left as it was and the temporary file is removed.
Result<void> WriteFileDurable(const std::string& path, std::string_view data, int mode = 0644);
// mkdir -p.
Result<void> MakeDirs(const std::string& path, int mode = 0755);
// rm -rf that does not follow symlinks and does not cross mount points.
Result<void> RemoveTree(const std::string& path);
bool PathExists(const std::string& path);
// Names in a directory (without "." and ".."), sorted; empty when it cannot be read.
std::vector<std::string> ListDirectory(const std::string& path);
// Splits on sep, dropping empty pieces.
std::vector<std::string> Split(std::string_view s, char sep);
std::string Trim(std::string_view s);
// 16 hex digits of FNV-1a 64 over the bytes: a cache key, not a security boundary.
std::string ContentHash(std::string_view data);
Result<std::string> HashFile(const std::string& path);

}  // namespace cvb
