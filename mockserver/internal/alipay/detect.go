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

// Suggestions of alipay.security.risk.content.sync.detect (pass, block,
// review), per its response doc (alipay-sdk-java-all
// AlipaySecurityRiskContentSyncDetectResponse.suggestion).
const (
	suggestPass   = "pass"
	suggestBlock  = "block"
	suggestReview = "review"
)

// Content types the sync detection takes (content_type).
const (
	contentTypeText    = "TEXT"
	contentTypePicture = "PICTURE"
)

// syncDetectBiz is the biz_content of alipay.security.risk.content.sync.detect
// (alipay-sdk-java-all AlipaySecurityRiskContentSyncDetectModel). request_id,
// products, channel, content_type and data_list are required (go-pay/gopay
// alipay/risk_api.go SecurityRiskContentSyncDetect checks them).
type syncDetectBiz struct {
	RequestID   string   `json:"request_id"`
	Products    string   `json:"products"`
	Channel     string   `json:"channel"`
	ContentType string   `json:"content_type"`
	DataList    []string `json:"data_list"`
	OpenID      string   `json:"open_id"`
	UserID      string   `json:"user_id"`
	Tenants     string   `json:"tenants"`
}

// syncDetectNode is the success node (fields of
// AlipaySecurityRiskContentSyncDetectResponse and DetectCheckLabel).
type syncDetectNode struct {
	Code          Code         `json:"code"`
	Msg           string       `json:"msg"`
	RequestID     string       `json:"request_id"`
	ResultCode    string       `json:"result_code"`
	ResultMsg     string       `json:"result_msg"`
	Suggestion    string       `json:"suggestion"`
	IsSync        bool         `json:"is_sync"`
	IsMeter       bool         `json:"is_meter"`
	MeterProducts string       `json:"meter_products"`
	Labels        *checkLabels `json:"detect_check_labels,omitempty"`
}

type checkLabels struct {
	Label string     `json:"label"`
	Rate  string     `json:"rate"`
	Sub   []subLabel `json:"sub_check_labels"`
}

type subLabel struct {
	HitStrategy int    `json:"hit_strategy"`
	SubLabel    string `json:"sub_label"`
	Rate        string `json:"rate"`
}

// alipay.security.risk.content.sync.detect, judged by the same content
// rules as content.detect: a risky word → block, a review word → review,
// else pass. data_list must hold exactly one item ("当前接口仅支持单一内容传入",
// the model's doc). PICTURE items (URLs) are not inspected: the mock has no
// image rules, so they pass (UNCONFIRMED). The hit's label is the first
// requested product code and each hit word is a sub label (UNCONFIRMED:
// the platform's label vocabulary); result_code SUCCESS (UNCONFIRMED).
func (e *Emulator) serveContentSyncDetect(q *call) {
	var biz syncDetectBiz
	raw := q.p["biz_content"]
	if raw == "" || json.Unmarshal([]byte(raw), &biz) != nil {
		q.fail(CodeBusinessFailed, SubParamIllegal, "biz_content格式错误")
		return
	}
	for _, f := range []struct{ name, v string }{
		{"request_id", biz.RequestID}, {"products", biz.Products}, {"channel", biz.Channel}, {"content_type", biz.ContentType},
	} {
		if strings.TrimSpace(f.v) == "" {
			q.fail(CodeBusinessFailed, SubParamIllegal, f.name+"不能为空")
			return
		}
	}
	switch {
	case biz.ContentType != contentTypeText && biz.ContentType != contentTypePicture:
		q.fail(CodeBusinessFailed, SubParamIllegal, "content_type只支持TEXT或PICTURE")
		return
	case len(biz.DataList) != 1 || strings.TrimSpace(biz.DataList[0]) == "":
		q.fail(CodeBusinessFailed, SubParamIllegal, "data_list须且仅须包含一条内容")
		return
	}
	products := strings.Split(biz.Products, ",")
	node := syncDetectNode{Code: CodeSuccess, Msg: CodeSuccess.Message(), RequestID: biz.RequestID, ResultCode: "SUCCESS",
		ResultMsg: "成功", Suggestion: suggestPass, IsSync: true, IsMeter: true,
		MeterProducts: strings.Join(products, ";")}
	if biz.ContentType == contentTypeText {
		v := e.env.Content.Check(biz.DataList[0])
		switch v.Suggest {
		case content.Risky:
			node.Suggestion = suggestBlock
		case content.Review:
			node.Suggestion = suggestReview
		}
		if len(v.Hits) > 0 {
			node.Labels = &checkLabels{Label: strings.TrimSpace(products[0]), Rate: "99.99"}
			for _, h := range v.Hits {
				node.Labels.Sub = append(node.Labels.Sub, subLabel{HitStrategy: 1, SubLabel: h.Word, Rate: "99.99"})
			}
		}
	}
	q.reply(CodeSuccess, node)
}
