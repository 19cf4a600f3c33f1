package wechat

import (
	"github.com/minipush/minipush/sender/internal/platform"
	"github.com/minipush/minipush/sender/internal/platform/call"
)

// SendBodies returns the body Send writes for s and the one call.JSON
// writes for the same sendRequest (the reference).
func SendBodies(cfg Config, s platform.Send) (fast, reference []byte, err error) {
	c := &Client{cfg: cfg}
	req := sendRequest{ToUser: s.To, TemplateID: s.TemplateID, Page: s.Page,
		Data:             make(map[string]keywordValue, len(s.Data)),
		MiniprogramState: cfg.MiniprogramState, Lang: cfg.Lang}
	for k, v := range s.Data {
		req.Data[k] = keywordValue{Value: v}
	}
	reference, err = call.JSON(req)
	return c.appendSendRequest(nil, s), reference, err
}

// ParseSends reads b by the fast path (ok false: not taken) and by
// encoding/json (the reference).
func ParseSends(b []byte) (fast string, ok bool, reference platform.Result, referr *platform.Error) {
	c := &Client{api: call.New(Platform, nil, call.NewScrubber("secret"))}
	fast, ok = parseSendOK(b)
	reference, referr = c.parseSendAny(b)
	return fast, ok, reference, referr
}
