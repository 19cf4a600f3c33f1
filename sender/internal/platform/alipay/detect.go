package alipay

import (
	"context"
	"strings"

	"github.com/minipush/minipush/sender/internal/platform"
)

// MethodContentDetect is the text content detection
// (UNCONFIRMED whether a newer method supersedes it).
const MethodContentDetect = "alipay.security.risk.content.detect"

// Actions of MethodContentDetect.
const (
	ActionPassed   = "PASSED"
	ActionRejected = "REJECTED"
)

type detectBiz struct {
	Content string `json:"content"`
}

// CheckContent runs alipay.security.risk.content.detect on texts, joined by
// newlines, in one call (the method documents no length limit —
// UNCONFIRMED). The verdict is risky when action is REJECTED; the label is
// the hit keywords joined by "," (a PASSED answer may list borderline
// hits), or the action when there are none. to is not used: the method
// judges text, not a user. Nothing to check (only blank texts) passes
// without a call; the gateway refuses empty content.
func (c *Client) CheckContent(ctx context.Context, to string, texts []string) (platform.Verdict, error) {
	nonEmpty := platform.NonBlank(texts)
	if len(nonEmpty) == 0 {
		return platform.Verdict{Label: ActionPassed}, nil
	}
	n, perr := c.invoke(ctx, MethodContentDetect, detectBiz{Content: strings.Join(nonEmpty, "\n")})
	if perr != nil {
		return platform.Verdict{}, perr
	}
	if n.Action == "" {
		return platform.Verdict{}, malformed(MethodContentDetect, "no action")
	}
	v := platform.Verdict{Risky: n.Action == ActionRejected, Label: n.Action}
	if len(n.Keywords) > 0 {
		v.Label = clip(strings.Join(n.Keywords, ","))
	}
	return v, nil
}
