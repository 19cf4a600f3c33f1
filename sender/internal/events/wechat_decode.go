package events

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// WeChat's event bodies, XML or JSON
// (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/subscribe-message.html,
// …/customer-message/receive.html). The quirks handled here:
//
//   - XML wraps the subscribe events' repeated <List> in
//     <SubscribeMsgPopupEvent>, <SubscribeMsgChangeEvent> or
//     <SubscribeMsgSentEvent>; JSON has a top-level List that is an object
//     for one item and an array for several;
//   - CreateTime, PopupScene, MsgID and ErrorCode come as numbers or as
//     strings (the doc's JSON quotes them, live pushes send CreateTime as a
//     number);
//   - the content type cannot be trusted: the body is sniffed.

// WeChat event names and message types.
const (
	wxEventPopup   = "subscribe_msg_popup_event"
	wxEventChange  = "subscribe_msg_change_event"
	wxEventSent    = "subscribe_msg_sent_event"
	wxMsgTypeEvent = "event"
)

// Bounds on decoded values: generous for the platform's ids, small enough
// that a push cannot grow the ledger with junk.
const (
	maxID    = 128 // openids, template ids, msgids
	maxItems = 32  // a popup shows at most 3 templates
)

// wechatEnvelope is what the body says before decryption.
type wechatEnvelope struct {
	encrypt string
}

func decodeWeChatEnvelope(body []byte) (wechatEnvelope, *refusal) {
	if len(bytes.TrimSpace(body)) == 0 {
		return wechatEnvelope{}, refuse(http.StatusBadRequest, refusedMalformed, "empty body: WeChat pushes an XML or JSON event")
	}
	if sniff(body) {
		var x struct {
			XMLName xml.Name
			Encrypt string `xml:"Encrypt"`
		}
		if err := xml.Unmarshal(body, &x); err != nil {
			return wechatEnvelope{}, refuse(http.StatusBadRequest, refusedMalformed, "malformed XML body: %v", err)
		}
		if x.XMLName.Local != "xml" {
			return wechatEnvelope{}, refuse(http.StatusBadRequest, refusedMalformed, "the XML body's root is <%s>, want <xml>", clipName(x.XMLName.Local))
		}
		return wechatEnvelope{encrypt: strings.TrimSpace(x.Encrypt)}, nil
	}
	var j struct {
		Encrypt *string `json:"Encrypt"`
	}
	if err := json.Unmarshal(body, &j); err != nil {
		return wechatEnvelope{}, refuse(http.StatusBadRequest, refusedMalformed, "malformed JSON body: %s", jsonProblem(err))
	}
	if j.Encrypt == nil {
		return wechatEnvelope{}, nil
	}
	return wechatEnvelope{encrypt: strings.TrimSpace(*j.Encrypt)}, nil
}

// XML shapes.
type (
	wxXMLEvent struct {
		XMLName      xml.Name
		FromUserName string      `xml:"FromUserName"`
		CreateTime   string      `xml:"CreateTime"`
		MsgType      string      `xml:"MsgType"`
		Event        string      `xml:"Event"`
		MsgID        string      `xml:"MsgId"`
		Popup        *wxXMLList  `xml:"SubscribeMsgPopupEvent"`
		Change       *wxXMLList  `xml:"SubscribeMsgChangeEvent"`
		Sent         *wxXMLList  `xml:"SubscribeMsgSentEvent"`
		List         []wxXMLItem `xml:"List"` // unwrapped, as some copies of the doc show it
	}
	wxXMLList struct {
		List []wxXMLItem `xml:"List"`
	}
	wxXMLItem struct {
		TemplateID            string `xml:"TemplateId"`
		SubscribeStatusString string `xml:"SubscribeStatusString"`
		PopupScene            string `xml:"PopupScene"`
		MsgID                 string `xml:"MsgID"`
		ErrorCode             string `xml:"ErrorCode"`
		ErrorStatus           string `xml:"ErrorStatus"`
	}
)

// JSON shapes. Go matches JSON keys case-insensitively, which is what
// MsgId (user messages) and MsgID (sent events) need.
type (
	wxJSONEvent struct {
		FromUserName flexString      `json:"FromUserName"`
		CreateTime   flexString      `json:"CreateTime"`
		MsgType      flexString      `json:"MsgType"`
		Event        flexString      `json:"Event"`
		MsgID        flexString      `json:"MsgId"`
		List         json.RawMessage `json:"List"`
	}
	wxJSONItem struct {
		TemplateID            flexString `json:"TemplateId"`
		SubscribeStatusString flexString `json:"SubscribeStatusString"`
		PopupScene            flexString `json:"PopupScene"`
		MsgID                 flexString `json:"MsgID"`
		ErrorCode             flexString `json:"ErrorCode"`
		ErrorStatus           flexString `json:"ErrorStatus"`
	}
)

// flexString takes a JSON string or number (kept as written) or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n)
	default:
		return errNotStringOrNumber
	}
	return nil
}

var errNotStringOrNumber = errors.New("want a string or a number")

// decodeWeChatEvent decodes and checks an event body (plain, or decrypted).
func decodeWeChatEvent(body []byte) (Payload, *refusal) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Payload{}, refuse(http.StatusBadRequest, refusedMalformed, "empty event")
	}
	var (
		p          = Payload{Platform: "wechat"}
		createTime string
		items      []wxXMLItem
	)
	if sniff(body) {
		var x wxXMLEvent
		if err := xml.Unmarshal(body, &x); err != nil {
			return Payload{}, refuse(http.StatusBadRequest, refusedMalformed, "malformed XML event: %v", err)
		}
		if x.XMLName.Local != "xml" {
			return Payload{}, refuse(http.StatusBadRequest, refusedMalformed, "the XML event's root is <%s>, want <xml>", clipName(x.XMLName.Local))
		}
		p.User, p.MsgType, p.Event, p.MsgID = x.FromUserName, x.MsgType, x.Event, x.MsgID
		createTime, items = x.CreateTime, x.List
		for _, w := range []*wxXMLList{x.Popup, x.Change, x.Sent} {
			if w != nil {
				items = append(items, w.List...)
			}
		}
	} else {
		var j wxJSONEvent
		if err := json.Unmarshal(body, &j); err != nil {
			return Payload{}, refuse(http.StatusBadRequest, refusedMalformed, "malformed JSON event: %s", jsonProblem(err))
		}
		p.User, p.MsgType, p.Event, p.MsgID = string(j.FromUserName), string(j.MsgType), string(j.Event), string(j.MsgID)
		createTime = string(j.CreateTime)
		var ref *refusal
		if items, ref = jsonList(j.List); ref != nil {
			return Payload{}, ref
		}
	}
	p.User, p.MsgType, p.Event, p.MsgID = strings.TrimSpace(p.User), strings.TrimSpace(p.MsgType),
		strings.TrimSpace(p.Event), strings.TrimSpace(p.MsgID)
	if ref := checkWeChat(&p, createTime, items); ref != nil {
		return Payload{}, ref
	}
	return p, nil
}

// jsonList reads JSON's List: an object for one item, an array for
// several.
func jsonList(raw json.RawMessage) ([]wxXMLItem, *refusal) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []wxJSONItem
	switch raw[0] {
	case '{':
		var one wxJSONItem
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, refuse(http.StatusBadRequest, refusedMalformed, "List: %s", jsonProblem(err))
		}
		list = []wxJSONItem{one}
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, refuse(http.StatusBadRequest, refusedMalformed, "List: %s", jsonProblem(err))
		}
	default:
		return nil, refuse(http.StatusBadRequest, refusedMalformed, "List must be an object (one item) or an array")
	}
	out := make([]wxXMLItem, len(list))
	for i, it := range list {
		out[i] = wxXMLItem{TemplateID: string(it.TemplateID), SubscribeStatusString: string(it.SubscribeStatusString),
			PopupScene: string(it.PopupScene), MsgID: string(it.MsgID), ErrorCode: string(it.ErrorCode),
			ErrorStatus: string(it.ErrorStatus)}
	}
	return out, nil
}

// checkWeChat validates the decoded fields, naming the first bad one, and
// fills p's CreateTime and items.
func checkWeChat(p *Payload, createTime string, items []wxXMLItem) *refusal {
	bad := func(format string, args ...any) *refusal {
		return refuse(http.StatusBadRequest, refusedMalformed, format, args...)
	}
	switch {
	case p.User == "":
		return bad("FromUserName is missing: the user the event is about")
	case len(p.User) > maxID:
		return bad("FromUserName is longer than %d characters", maxID)
	case p.MsgType == "":
		return bad("MsgType is missing")
	case len(p.MsgType) > maxID || len(p.Event) > maxID:
		return bad("MsgType or Event is longer than %d characters", maxID)
	case p.MsgType == wxMsgTypeEvent && p.Event == "":
		return bad("Event is missing: MsgType is event")
	case len(p.MsgID) > maxID:
		return bad("MsgId is longer than %d characters", maxID)
	case len(items) > maxItems:
		return bad("List has %d items, more than %d", len(items), maxItems)
	}
	ct, err := strconv.ParseInt(strings.TrimSpace(createTime), 10, 64)
	if err != nil || ct < 0 {
		return bad("CreateTime must be Unix seconds, got %s", clip(createTime, 20))
	}
	p.CreateTime = ct
	if p.MsgType != wxMsgTypeEvent {
		p.Event = p.MsgType // a user message: its type names it
	}
	switch p.Event {
	case wxEventPopup, wxEventChange, wxEventSent:
	default:
		return nil // kept as it came: no effect, nothing more to check
	}
	if len(items) == 0 {
		return bad("List is missing: %s names the templates in it", p.Event)
	}
	for i, it := range items {
		item := Item{TemplateID: strings.TrimSpace(it.TemplateID), Status: strings.TrimSpace(it.SubscribeStatusString),
			PopupScene: strings.TrimSpace(it.PopupScene), MsgID: strings.TrimSpace(it.MsgID),
			ErrorCode: strings.TrimSpace(it.ErrorCode), ErrorStatus: strings.TrimSpace(it.ErrorStatus)}
		switch {
		case item.TemplateID == "":
			return bad("List[%d].TemplateId is missing", i)
		case len(item.TemplateID) > maxID || len(item.MsgID) > maxID || len(item.PopupScene) > maxID ||
			len(item.ErrorCode) > maxID || len(item.ErrorStatus) > 1024 || len(item.Status) > maxID:
			return bad("List[%d] has a value longer than the platform's", i)
		}
		switch p.Event {
		case wxEventPopup, wxEventChange:
			if item.Status != "accept" && item.Status != "reject" {
				return bad("List[%d].SubscribeStatusString must be accept or reject, got %s", i, clip(item.Status, 20))
			}
		case wxEventSent:
			if item.MsgID == "" {
				return bad("List[%d].MsgID is missing: the msgid of the send it reports", i)
			}
			if _, err := strconv.ParseInt(item.ErrorCode, 10, 64); err != nil {
				return bad("List[%d].ErrorCode must be a number, got %s", i, clip(item.ErrorCode, 20))
			}
		}
		p.Items = append(p.Items, item)
	}
	return nil
}

// wechatKey identifies a push across WeChat's re-sends: a user message by
// its MsgId; an event by FromUserName and CreateTime as the platform's
// docs advise ("排重"), plus the event's name and a digest of its items,
// so two sends reported within one second stay two receipts. Two pushes
// alike in all of these are one push.
func wechatKey(p Payload) string {
	if p.MsgType != wxMsgTypeEvent && p.MsgID != "" {
		return "msg:" + p.MsgID
	}
	h := sha1.New()
	for _, it := range p.Items {
		fmt.Fprintf(h, "%q %q %q %q %q\n", it.TemplateID, it.Status, it.MsgID, it.ErrorCode, it.PopupScene)
	}
	return fmt.Sprintf("event:%s:%d:%s:%s", p.User, p.CreateTime, p.Event, hex.EncodeToString(h.Sum(nil))[:16])
}

// jsonProblem words a JSON error without echoing the body.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s must be %s", te.Field, te.Type)
		}
		return fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value)
	case errors.Is(err, errNotStringOrNumber):
		return "a field that must be a string or a number is neither"
	}
	return err.Error()
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
