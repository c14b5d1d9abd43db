// Result<T> and Error: how every cvbench library reports failure. Exceptions are only thrown at
// main(); libraries return Result so that a caller sees which syscall, file or field failed.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace cvb {

struct Error {
  int err = 0;          // errno, or 0 when the failure is not a syscall's
  std::string context;  // what was being done: names the file, field or syscall

  // "context: strerror(err)" or just "context".
  std::string message() const;
  // Prefixes more context: Error{ENOENT,"open x"}.wrap("load image") -> "load image: open x".
  Error wrap(const std::string& outer) const { return Error{err, outer + ": " + context}; }
};

// An Error from the current errno.
inline Error ErrnoError(std::string context) { return Error{errno, std::move(context)}; }
// An Error that is not a syscall's (bad input, protocol violation).
inline Error Failure(std::string context) { return Error{0, std::move(context)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }
  T value_or_empty() const& { return ok() ? value() : T{}; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Result<void> Ok() { return Result<void>(); }

}  // namespace cvb

// Early return of the error of an expression that yields a Result.
#define CVB_CONCAT_INNER_(a, b) a##b
#define CVB_CONCAT_(a, b) CVB_CONCAT_INNER_(a, b)
#define CVB_TRY(expr) CVB_TRY_IMPL_(CVB_CONCAT_(cvb_try_result_, __COUNTER__), expr)
#define CVB_TRY_IMPL_(tmp, expr)            \
  do {                                      \
    auto tmp = (expr);                      \
    if (!tmp.ok()) return tmp.error();      \
  } while (0)
// CVB_ASSIGN_OR_RETURN(auto x, F()) : x = F().value(), or return F()'s error.
#define CVB_ASSIGN_OR_RETURN(lhs, expr) \
  CVB_ASSIGN_OR_RETURN_IMPL_(CVB_CONCAT_(cvb_result_, __LINE__), lhs, expr)
#define CVB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.error();               \
  lhs = std::move(tmp).value()
