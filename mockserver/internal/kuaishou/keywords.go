package kuaishou

import kskeyword "github.com/minipush/minipush/mockserver/internal/keyword/kuaishou"

// Kuaishou's keyword types and value rules live in the mock's own
// mockserver/internal/keyword/kuaishou (the sender keeps a separate copy).

// KnownType reports whether t is one of the documented keyword types.
func KnownType(t string) bool { return kskeyword.KnownType(t) }

// CheckKeyword validates value for the data key: nil or a
// *keyword.Violation.
func CheckKeyword(key, value string) error { return kskeyword.Check(key, value) }
