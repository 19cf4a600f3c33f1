package push

import (
	"fmt"
	"slices"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// FaultEndpoints lists the push endpoints faults can target on a platform
// (nil when it pushes nothing).
func (e *Engine) FaultEndpoints(platform string) []string {
	c, ok := e.codec(platform)
	if !ok {
		return nil
	}
	return c.FaultEndpoints()
}

// CheckFault applies the push rules to a fault that faults.Validate has
// accepted: which actions make sense on which push endpoint, and which
// corruptions the platform knows. It names the bad field.
func (e *Engine) CheckFault(f mockapi.Fault) (field string, err error) {
	c, pushes := e.codec(f.Platform)
	switch f.Endpoint {
	case EndpointPush:
		if f.ErrCode != nil || f.HTTPStatus != 0 {
			field := "errcode"
			if f.ErrCode == nil {
				field = "http_status"
			}
			return field, fmt.Errorf("a fault on endpoint push acts on the push itself: use drop, latency or corrupt")
		}
		if f.Corrupt != "" && !slices.Contains(c.Corruptions(), f.Corrupt) {
			return "corrupt", fmt.Errorf("corrupt must be one of %v on %s, got %q", c.Corruptions(), f.Platform, f.Corrupt)
		}
	case EndpointSentEvent:
		// The event is built as the send answers: a latency here would hold
		// the send itself up, which pushes must never do.
		const hint = "a fault on endpoint %s shapes the event: use errcode (its ErrorCode), errmsg (its ErrorStatus) or drop"
		switch {
		case f.HTTPStatus != 0:
			return "http_status", fmt.Errorf(hint, EndpointSentEvent)
		case f.Latency != 0:
			return "latency", fmt.Errorf(hint+"; delay the push with a latency fault on endpoint push", EndpointSentEvent)
		case f.Corrupt != "":
			return "corrupt", fmt.Errorf("corrupt applies to endpoint %s only", EndpointPush)
		}
	default:
		if f.Corrupt != "" {
			if !pushes {
				return "corrupt", fmt.Errorf("corrupt applies to pushes, and %s pushes nothing", f.Platform)
			}
			return "corrupt", fmt.Errorf("corrupt applies to endpoint %s only", EndpointPush)
		}
	}
	return "", nil
}
