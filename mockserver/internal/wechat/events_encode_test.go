package wechat

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minipush/minipush/mockserver/internal/push"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

func popupBody(items ...push.Object) push.Object {
	return push.Object{{Name: "ToUserName", Value: "gh_123456789abc"}, {Name: "FromUserName", Value: "o_user"},
		{Name: "CreateTime", Value: int64(1610969440)}, {Name: "MsgType", Value: "event"},
		{Name: "Event", Value: EventSubscribePopup}, {Name: "List", Value: list(items)}}
}

func popupItem(id, status string) push.Object {
	return push.Object{{Name: "TemplateId", Value: id}, {Name: "SubscribeStatusString", Value: status}, {Name: "PopupScene", Value: "0"}}
}

// The doc's shapes: XML wraps repeated <List> in <SubscribeMsgPopupEvent>;
// JSON has a top-level List, an object for one item and an array for two.
func TestSubscribeEventShapes(t *testing.T) {
	t.Parallel()
	one := popupBody(popupItem("T1", "accept"))
	two := popupBody(popupItem("T1", "accept"), popupItem("T2", "reject"))

	x, err := encodeXML(two)
	if err != nil {
		t.Fatal(err)
	}
	wantXML := `<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[o_user]]></FromUserName>` +
		`<CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>` +
		`<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene><![CDATA[0]]></PopupScene></List>` +
		`<List><TemplateId><![CDATA[T2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene><![CDATA[0]]></PopupScene></List></SubscribeMsgPopupEvent></xml>`
	if string(x) != wantXML {
		t.Errorf("XML:\n got %s\nwant %s", x, wantXML)
	}
	x1, _ := encodeXML(one)
	if strings.Count(string(x1), "<List>") != 1 || !strings.Contains(string(x1), "<SubscribeMsgPopupEvent><List>") {
		t.Errorf("one-item XML: %s", x1)
	}

	j1, _ := encodeJSON(one)
	if !strings.Contains(string(j1), `"List":{"TemplateId":"T1"`) {
		t.Errorf("one item must be a JSON object: %s", j1)
	}
	j2, _ := encodeJSON(two)
	if !strings.Contains(string(j2), `"List":[{"TemplateId":"T1"`) {
		t.Errorf("two items must be a JSON array: %s", j2)
	}
	var v map[string]any
	if err := json.Unmarshal(j2, &v); err != nil || v["CreateTime"] != float64(1610969440) {
		t.Errorf("CreateTime must be a JSON number as live pushes carry it: %s", j2)
	}
}

func TestXMLEscaping(t *testing.T) {
	t.Parallel()
	o := push.Object{{Name: "Content", Value: "a]]>b<c>&"}, {Name: "N", Value: json.Number("12")}, {Name: "Nil", Value: nil}}
	x, err := encodeXML(o)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Content string `xml:"Content"`
		N       int    `xml:"N"`
	}
	if err := xml.Unmarshal(x, &got); err != nil || got.Content != "a]]>b<c>&" || got.N != 12 {
		t.Fatalf("XML %s decodes to %+v, %v", x, got, err)
	}
	for name, bad := range map[string]push.Object{
		"control char":  {{Name: "C", Value: "a\x00b"}},
		"invalid utf-8": {{Name: "C", Value: "a\xffb"}},
		"bad name":      {{Name: "1abc", Value: "x"}},
		"name with <":   {{Name: "a<b", Value: "x"}},
		"reserved name": {{Name: "xmlthing", Value: "x"}},
		"nested bad":    {{Name: "A", Value: push.Object{{Name: "b c", Value: 1}}}},
	} {
		if out, err := encodeXML(bad); err == nil {
			t.Errorf("%s: encoded as %s", name, out)
		}
	}
}

func testCfg(t *testing.T, format, mode string) push.Config {
	t.Helper()
	cfg, field, err := codec{}.CheckConfig(&store.App{Platform: Name, AppID: docAppID},
		mockapi.PushConfig{URL: "http://127.0.0.1:1/wx?app=shop", Token: docToken, EncodingAESKey: docAESKey, Format: format, Mode: mode})
	if err != nil {
		t.Fatalf("config %s: %v", field, err)
	}
	return cfg
}

func TestEncodeModes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1714112445, 0)
	for _, format := range []string{pushFormatXML, pushFormatJSON} {
		for _, mode := range []string{pushModePlain, pushModeCompatible, pushModeSafe} {
			t.Run(format+"/"+mode, func(t *testing.T) {
				t.Parallel()
				cfg := testCfg(t, format, mode)
				ev := push.Event{Platform: Name, AppID: docAppID, OpenID: "o_user", Body: popupBody(popupItem("T1", "accept"))[1:]}
				req, err := codec{}.Encode(cfg, &ev, push.Attempt{Now: now})
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(req.URL)
				q := u.Query()
				if q.Get("app") != "shop" {
					t.Errorf("the URL's own query was lost: %s", req.URL)
				}
				if q.Get("timestamp") != docTimestamp || q.Get("signature") != pushSignature(docToken, docTimestamp, q.Get("nonce")) {
					t.Errorf("query %v: bad timestamp or signature", q)
				}
				if _, err := strconv.Atoi(q.Get("nonce")); err != nil {
					t.Errorf("nonce %q is not digits", q.Get("nonce"))
				}
				wantCT := map[string]string{pushFormatXML: "text/xml", pushFormatJSON: "application/json"}[format]
				if req.Header.Get("Content-Type") != wantCT {
					t.Errorf("Content-Type %q, want %q", req.Header.Get("Content-Type"), wantCT)
				}
				plain, _ := encodeEvent(format, ev.Body.Prepend("ToUserName", cfg.OriginalID))
				if mode == pushModePlain {
					if string(req.Body) != string(plain) || q.Has("encrypt_type") || q.Has("msg_signature") || q.Has("openid") {
						t.Errorf("plain push: query %v body %s", q, req.Body)
					}
					return
				}
				if q.Get("encrypt_type") != "aes" || q.Get("openid") != "o_user" {
					t.Errorf("encrypted query %v", q)
				}
				enc := envelopeField(t, format, req.Body, "Encrypt")
				if q.Get("msg_signature") != pushSignature(docToken, docTimestamp, q.Get("nonce"), enc) {
					t.Errorf("msg_signature does not cover Encrypt")
				}
				key, _ := pushAESKey(docAESKey)
				msg, appID, err := decryptPush(key, enc)
				if err != nil || string(msg) != string(plain) || appID != docAppID {
					t.Errorf("Encrypt decrypts to %q for %q (%v), want the plain event", msg, appID, err)
				}
				hasPlainField := envelopeField(t, format, req.Body, "Event") != ""
				if (mode == pushModeCompatible) != hasPlainField {
					t.Errorf("%s mode: plain fields present = %v: %s", mode, hasPlainField, req.Body)
				}
				if got := envelopeField(t, format, req.Body, "ToUserName"); got != cfg.OriginalID {
					t.Errorf("envelope ToUserName %q, want %q", got, cfg.OriginalID)
				}
			})
		}
	}
}

// envelopeField reads a top-level string field of an XML or JSON body.
func envelopeField(t *testing.T, format string, body []byte, name string) string {
	t.Helper()
	if format == pushFormatJSON {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		s, _ := m[name].(string)
		return s
	}
	var m struct {
		Fields []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	for _, f := range m.Fields {
		if f.XMLName.Local == name {
			return f.Value
		}
	}
	return ""
}

func TestEncodeCorruptions(t *testing.T) {
	t.Parallel()
	now := time.Unix(1714112445, 0)
	cfg := testCfg(t, pushFormatJSON, pushModeSafe)
	key, _ := pushAESKey(docAESKey)
	ev := push.Event{Platform: Name, AppID: docAppID, OpenID: "o_user", Body: push.Object{{Name: "MsgType", Value: "event"}}}
	for _, c := range (codec{}).Corruptions() {
		req, err := codec{}.Encode(cfg, &ev, push.Attempt{Now: now, Corrupt: c})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(req.URL)
		q := u.Query()
		ts, nonce := q.Get("timestamp"), q.Get("nonce")
		enc := envelopeField(t, pushFormatJSON, req.Body, "Encrypt")
		sigOK := q.Get("signature") == pushSignature(docToken, ts, nonce)
		msgSigOK := q.Get("msg_signature") == pushSignature(docToken, ts, nonce, enc)
		_, appID, decErr := decryptPush(key, enc)
		decOK := decErr == nil && appID == docAppID
		fresh := ts == docTimestamp
		want := map[string][4]bool{ // signature, msg_signature, decrypts for the app, fresh
			"signature":     {false, false, true, true},
			"msg_signature": {true, false, true, true},
			"timestamp":     {true, true, true, false},
			"encryption":    {true, true, false, true},
			"appid":         {true, true, false, true},
		}[c]
		if got := [4]bool{sigOK, msgSigOK, decOK, fresh}; got != want {
			t.Errorf("corrupt %s: (signature, msg_signature, decrypts, fresh) = %v, want %v", c, got, want)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	t.Parallel()
	app := &store.App{Platform: Name, AppID: "wx1"}
	ok := mockapi.PushConfig{URL: "http://127.0.0.1/x", Token: "tok123"}
	cfg, _, err := codec{}.CheckConfig(app, ok)
	if err != nil || cfg.Format != pushFormatXML || cfg.Mode != pushModePlain || !cfg.SentEvents ||
		!strings.HasPrefix(cfg.OriginalID, "gh_") || len(cfg.OriginalID) != 15 {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	off := false
	for field, c := range map[string]mockapi.PushConfig{
		"url":              {Token: "tok123"},
		"token":            {URL: ok.URL, Token: "a!"},
		"format":           {URL: ok.URL, Token: "tok123", Format: "yaml"},
		"mode":             {URL: ok.URL, Token: "tok123", Mode: "secret"},
		"encoding_aes_key": {URL: ok.URL, Token: "tok123", Mode: pushModeSafe},
		"original_id":      {URL: ok.URL, Token: "tok123", OriginalID: "wx123"},
	} {
		if _, got, err := (codec{}).CheckConfig(app, c); err == nil || got != field {
			t.Errorf("CheckConfig(%+v) = field %q, %v; want field %q", c, got, err, field)
		}
	}
	cfg, _, _ = codec{}.CheckConfig(app, mockapi.PushConfig{URL: ok.URL, Token: "tok123", SentEvents: &off, OriginalID: "gh_abc"})
	if cfg.SentEvents || cfg.OriginalID != "gh_abc" {
		t.Errorf("explicit settings lost: %+v", cfg)
	}
}
