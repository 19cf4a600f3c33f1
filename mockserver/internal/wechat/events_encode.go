package wechat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/push"
)

// The wire shapes of a push body (message-push.html; subscribe-message.html
// "事件推送"):
//   - JSON is the event object itself, fields in order.
//   - XML is <xml> with one element per field: strings in CDATA, numbers
//     bare, an object as nested elements, an array as the element repeated.
//   - The three subscribe events differ between the two: JSON has a
//     top-level "List" (an object for one item, an array for several —
//     the quirk receivers must handle), XML wraps the repeated <List> in
//     <SubscribeMsgPopupEvent>, <SubscribeMsgChangeEvent> or
//     <SubscribeMsgSentEvent>.

// listWrappers maps the subscribe events to the XML element around List.
var listWrappers = map[string]string{
	EventSubscribePopup:  "SubscribeMsgPopupEvent",
	EventSubscribeChange: "SubscribeMsgChangeEvent",
	EventSubscribeSent:   "SubscribeMsgSentEvent",
}

// encodeJSON writes the event as JSON.
func encodeJSON(o push.Object) ([]byte, error) { return o.MarshalJSON() }

// encodeXML writes the event as <xml>…</xml>.
func encodeXML(o push.Object) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<xml>")
	if err := writeXMLFields(&b, xmlShape(o)); err != nil {
		return nil, err
	}
	b.WriteString("</xml>")
	return b.Bytes(), nil
}

// xmlShape moves a subscribe event's List into its XML wrapper element.
func xmlShape(o push.Object) push.Object {
	wrapper, ok := listWrappers[o.String("Event")]
	if !ok || o.Has(wrapper) {
		return o
	}
	out := make(push.Object, 0, len(o))
	for _, f := range o {
		if f.Name == "List" {
			f = push.Field{Name: wrapper, Value: push.Object{{Name: "List", Value: f.Value}}}
		}
		out = append(out, f)
	}
	return out
}

func writeXMLFields(b *bytes.Buffer, o push.Object) error {
	for _, f := range o {
		if err := writeXMLField(b, f.Name, f.Value); err != nil {
			return err
		}
	}
	return nil
}

func writeXMLField(b *bytes.Buffer, name string, v any) error {
	if !validXMLName(name) {
		return fmt.Errorf("%q cannot be an XML element name", name)
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := writeXMLField(b, name, e); err != nil {
				return err
			}
		}
		return nil
	case []push.Object:
		return writeXMLField(b, name, push.Array(x))
	}
	b.WriteString("<" + name + ">")
	switch x := v.(type) {
	case nil:
	case string:
		if err := writeCDATA(b, x); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case json.Number:
		b.WriteString(string(x))
	case push.Object:
		if err := writeXMLFields(b, x); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: unsupported value of type %T", name, v)
	}
	b.WriteString("</" + name + ">")
	return nil
}

// writeCDATA writes s in CDATA sections; "]]>" inside s is split across
// two sections, the only way XML allows it.
func writeCDATA(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("the text is not valid UTF-8")
	}
	for i, r := range s {
		if !validXMLChar(r) {
			return fmt.Errorf("character %U at byte %d cannot appear in XML", r, i)
		}
	}
	b.WriteString("<![CDATA[")
	b.WriteString(strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]>")
	return nil
}

// validXMLChar is XML 1.0's Char production.
func validXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// validXMLName accepts the names WeChat uses (ASCII letters, digits, _ and
// -, not starting with a digit or -); "xml" itself is reserved.
func validXMLName(name string) bool {
	if name == "" || len(name) > 128 || strings.HasPrefix(strings.ToLower(name), "xml") {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case (r >= '0' && r <= '9') || r == '-' || r == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// envelope is the body of a push in the app's mode: the plain event, the
// encrypted envelope (safe), or both in one body (compatible).
func envelope(format, mode string, plain []byte, event push.Object, toUser, encrypted string) ([]byte, error) {
	switch mode {
	case "", pushModePlain:
		return plain, nil
	case pushModeSafe:
		env := push.Object{{Name: "ToUserName", Value: toUser}, {Name: "Encrypt", Value: encrypted}}
		if format == pushFormatJSON {
			return encodeJSON(env)
		}
		return encodeXML(env)
	case pushModeCompatible:
		// The plain fields plus Encrypt in one body: observed for JSON;
		// the same for XML is inferred (UNCONFIRMED).
		return encodeEvent(format, event.With("Encrypt", encrypted))
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// encodeEvent writes the event in the format.
func encodeEvent(format string, o push.Object) ([]byte, error) {
	if format == pushFormatJSON {
		return encodeJSON(o)
	}
	return encodeXML(o)
}
