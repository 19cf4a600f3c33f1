package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minipush/minipush/mockserver/mockapi"
)

// ParseFault reads a mock fault from "key=value,…", e.g.
// "endpoint=subscribe_send,errcode=-1,probability=0.5". Keys: endpoint
// (required), errcode, errmsg, http_status, latency, drop, times,
// probability, seed, openid, platform, app_id (default: the run's app, so
// other apps on a shared mock are not disturbed).
func ParseFault(s string) (mockapi.Fault, error) {
	var f mockapi.Fault
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return f, fmt.Errorf("fault %q: entry %q is not key=value", s, part)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var err error
		switch k {
		case "endpoint":
			f.Endpoint = v
		case "platform":
			f.Platform = v
		case "app_id":
			f.AppID = v
		case "openid":
			f.OpenID = v
		case "errcode":
			var n int
			n, err = strconv.Atoi(v)
			f.ErrCode = &n
		case "errmsg":
			f.ErrMsg = v
		case "http_status":
			f.HTTPStatus, err = strconv.Atoi(v)
		case "latency":
			var d time.Duration
			d, err = time.ParseDuration(v)
			f.Latency = mockapi.Duration(d)
		case "drop":
			f.Drop, err = strconv.ParseBool(v)
		case "times":
			f.Times, err = strconv.Atoi(v)
		case "probability", "p":
			f.Probability, err = strconv.ParseFloat(v, 64)
			if err == nil && (f.Probability < 0 || f.Probability > 1) {
				err = fmt.Errorf("want 0..1")
			}
		case "seed":
			f.Seed, err = strconv.ParseInt(v, 10, 64)
		default:
			return f, fmt.Errorf("fault %q: unknown key %q", s, k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %s=%q: %v", s, k, v, err)
		}
	}
	if f.Endpoint == "" {
		return f, fmt.Errorf("fault %q: endpoint is required (e.g. endpoint=subscribe_send)", s)
	}
	actions := 0
	for _, set := range []bool{f.ErrCode != nil, f.HTTPStatus != 0, f.Drop} {
		if set {
			actions++
		}
	}
	if actions > 1 || (actions == 0 && f.Latency == 0) {
		return f, fmt.Errorf("fault %q: give one of errcode, http_status or drop (latency may go with any, or alone)", s)
	}
	return f, nil
}
