package kuaishou

import kskeyword "github.com/minipush/minipush/internal/keyword/kuaishou"

// Kuaishou's keyword types and value rules live in internal/keyword/kuaishou,
// shared with the sender, which refuses the same values before its 202.

// KnownType reports whether t is one of the documented keyword types.
func KnownType(t string) bool { return kskeyword.KnownType(t) }

// CheckKeyword validates value for the data key: nil or a
// *keyword.Violation.
func CheckKeyword(key, value string) error { return kskeyword.Check(key, value) }
