package alipay

import (
	"encoding/json"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/content"
)

// Actions of alipay.security.risk.content.detect.
const (
	actionPassed   = "PASSED"
	actionRejected = "REJECTED"
)

// detectNode is the success node of the text content detection.
type detectNode struct {
	Code     Code     `json:"code"`
	Msg      string   `json:"msg"`
	Action   string   `json:"action"`
	Keywords []string `json:"keywords"`
	UniqueID string   `json:"unique_id"`
}

// alipay.security.risk.content.detect, biz_content {"content":"…"}. The
// verdict is data, not an error: text the shared content rules find risky
// answers 10000 with action REJECTED; review-level hits pass (PASSED) but
// are listed in keywords, like the risky ones (UNCONFIRMED: the platform's
// handling of borderline text).
func (e *Emulator) serveContentDetect(q *call) {
	var biz struct {
		Content string `json:"content"`
	}
	raw := q.p["biz_content"]
	if raw == "" || json.Unmarshal([]byte(raw), &biz) != nil {
		q.fail(CodeBusinessFailed, SubParamIllegal, "biz_content格式错误")
		return
	}
	if strings.TrimSpace(biz.Content) == "" {
		q.fail(CodeBusinessFailed, SubParamIllegal, "content不能为空")
		return
	}
	v := e.env.Content.Check(biz.Content)
	node := detectNode{Code: CodeSuccess, Msg: CodeSuccess.Message(), Action: actionPassed,
		Keywords: make([]string, 0, len(v.Hits)), UniqueID: randomHex(16)}
	if v.Suggest == content.Risky {
		node.Action = actionRejected
	}
	for _, h := range v.Hits {
		node.Keywords = append(node.Keywords, h.Word)
	}
	q.reply(CodeSuccess, node)
}
