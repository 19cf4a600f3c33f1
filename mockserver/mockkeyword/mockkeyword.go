// Package mockkeyword opens the mock's keyword value rules — the oracle's
// verdict on a keyword value, as the mock's send endpoints apply it — to
// test code outside mockserver/: the Gherkin scenarios, the load
// generator's tests and the sender's differential test
// (sender/internal/keyword/oracle_test.go), which runs the sender's own
// rules against these over a generated corpus.
//
// The rules live in mockserver/internal/keyword (WeChat's types, also used
// for Alipay's positional keywords) and mockserver/internal/keyword/kuaishou;
// docs/mock-wechat.md and docs/mock-kuaishou.md describe them. Production
// sender code must not import this package: the sender keeps its own rules,
// so that a mistake in either shows as a disagreement.
package mockkeyword

import (
	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/keyword/kuaishou"
)

// Violation is the error WeChat and Kuaishou return for a refused value;
// its Error text is the mock's errmsg after "argument invalid! "
// ("data.thing1.value exceeds limit").
type Violation = keyword.Violation

// Reason is why a value was refused.
type Reason = keyword.Reason

// The reasons, as the mock's errmsg words them.
const (
	ReasonEmpty   = keyword.ReasonEmpty   // "is empty"
	ReasonTooLong = keyword.ReasonTooLong // "exceeds limit"
	ReasonInvalid = keyword.ReasonInvalid // "invalid"
)

// Type is a data key's type: the key without its trailing digits
// ("thing1" → "thing", "date01" → "date").
func Type(key string) string { return keyword.Type(key) }

// WeChat judges value for a WeChat data key by the mock's rules; enum is
// the template's list of values for an enum key (nil: none). It returns nil
// or a *Violation.
func WeChat(key, value string, enum []string) error { return keyword.Check(key, value, enum) }

// Kuaishou judges value for a Kuaishou data key by the mock's rules. It
// returns nil or a *Violation.
func Kuaishou(key, value string) error { return kuaishou.Check(key, value) }

// KuaishouKnownType reports whether t is a type of Kuaishou's table.
func KuaishouKnownType(t string) bool { return kuaishou.KnownType(t) }
