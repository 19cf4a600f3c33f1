package wechat

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/keyword"
	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
	"github.com/minipush/minipush/mockserver/mockapi"
)

// Template management under /wxaapi/newtmpl/ (docs/platforms/wechat.md).

type enumValues struct {
	KeywordCode   string   `json:"keywordCode"`
	EnumValueList []string `json:"enumValueList"`
}

type privateTemplate struct {
	PriTmplID            string       `json:"priTmplId"`
	Title                string       `json:"title"`
	Content              string       `json:"content"`
	Example              string       `json:"example"`
	Type                 int          `json:"type"`
	KeywordEnumValueList []enumValues `json:"keywordEnumValueList,omitempty"`
}

// tokenApp resolves the token to its app or answers the token error.
func (e *Emulator) tokenApp(w http.ResponseWriter, r *http.Request, c *platform.Call) (*store.App, bool) {
	appID, code := e.checkToken(r)
	c.AppID = appID
	if e.fault(w, r, c) {
		return nil, false
	}
	if code != CodeOK {
		e.fail(w, c, code, "")
		return nil, false
	}
	app, ok := e.env.Store.App(Name, appID)
	if !ok {
		e.fail(w, c, CodeInvalidCredential, "")
		return nil, false
	}
	return app, true
}

// templateType is WeChat's number: 2 one-time, 3 long-term.
func templateType(longTerm bool) int {
	if longTerm {
		return 3
	}
	return 2
}

// GET /wxaapi/newtmpl/gettemplate
func (e *Emulator) handleGetTemplate(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.tokenApp(w, r, c)
	if !ok {
		return
	}
	list := []privateTemplate{}
	for _, t := range e.env.Store.Templates(Name, app.AppID) {
		var contentText, example strings.Builder
		pt := privateTemplate{PriTmplID: t.ID, Title: t.Title, Type: templateType(t.LongTerm)}
		for _, k := range t.Keywords {
			name := t.Names[k]
			if name == "" {
				name = k
			}
			contentText.WriteString(name + ":{{" + k + ".DATA}}\n")
			example.WriteString(name + ":" + exampleFor(keyword.Type(k)) + "\n")
			if vals, ok := t.Enums[k]; ok {
				pt.KeywordEnumValueList = append(pt.KeywordEnumValueList, enumValues{KeywordCode: k + ".DATA", EnumValueList: vals})
			}
		}
		pt.Content, pt.Example = contentText.String(), example.String()
		list = append(list, pt)
	}
	c.ErrCode = 0
	writeJSON(w, struct {
		ErrCode ErrCode           `json:"errcode"`
		ErrMsg  string            `json:"errmsg"`
		Data    []privateTemplate `json:"data"`
	}{CodeOK, "ok", list})
}

func exampleFor(rule string) string {
	switch rule {
	case "time":
		return "15:01"
	case "date":
		return "2019年10月1日"
	case "amount":
		return "¥100.00"
	case "number":
		return "1"
	case "phrase":
		return "配送中"
	case "phone_number":
		return "+86-0766-66888866"
	case "car_number":
		return "粤A8Z888挂"
	case "name":
		return "张三"
	case "character_string":
		return "A2019100112345"
	}
	return "示例"
}

type addTemplateRequest struct {
	TID       any    `json:"tid"`
	KidList   []int  `json:"kidList"`
	SceneDesc string `json:"sceneDesc"`
}

// POST /wxaapi/newtmpl/addtemplate {"tid","kidList":[…],"sceneDesc"}
func (e *Emulator) handleAddTemplate(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.tokenApp(w, r, c)
	if !ok {
		return
	}
	var req addTemplateRequest
	if code := readJSON(w, r, maxBodyBytes, &req); code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	// tid is documented as a string; SDKs send it as a string or a number.
	var tid int
	switch v := req.TID.(type) {
	case string:
		tid, _ = strconv.Atoi(v)
	case float64:
		tid = int(v)
	}
	e.mu.Lock()
	lt := e.library.byTID[tid]
	e.mu.Unlock()
	if lt == nil {
		e.fail(w, c, CodeTmplTID, "")
		return
	}
	if len(req.KidList) < 2 || len(req.KidList) > 5 {
		e.fail(w, c, CodeTmplKidList, "")
		return
	}
	t := &store.Template{ID: newTemplateID(), Title: lt.Title, LongTerm: lt.Type == mockapi.TemplateLongTerm,
		TID: tid, KIDs: slices.Clone(req.KidList), Scene: req.SceneDesc, Names: map[string]string{}, Created: e.env.Clock.Now()}
	seen := map[int]bool{}
	for _, kid := range req.KidList {
		i := slices.IndexFunc(lt.Keywords, func(k mockapi.LibraryKeyword) bool { return k.KID == kid })
		if i < 0 || seen[kid] {
			e.fail(w, c, CodeTmplKidList, "")
			return
		}
		seen[kid] = true
		// The data key is the keyword's rule followed by its kid (thing1).
		key := lt.Keywords[i].Rule + strconv.Itoa(kid)
		t.Keywords = append(t.Keywords, key)
		t.Names[key] = lt.Keywords[i].Name
	}
	if utf8.RuneCountInString(req.SceneDesc) > 15 {
		e.fail(w, c, CodeTmplSceneDesc, "")
		return
	}
	existing := e.env.Store.Templates(Name, app.AppID)
	for _, old := range existing {
		if old.TID == tid && slices.Equal(old.KIDs, t.KIDs) {
			e.fail(w, c, CodeTmplDuplicate, "")
			return
		}
	}
	if len(existing) >= maxPrivateTemplates {
		e.fail(w, c, CodeTmplLimit, "")
		return
	}
	if err := e.env.Store.PutTemplate(Name, app.AppID, t); err != nil {
		e.fail(w, c, CodeSystemBusy, "")
		return
	}
	c.ErrCode = 0
	writeJSON(w, struct {
		ErrCode   ErrCode `json:"errcode"`
		ErrMsg    string  `json:"errmsg"`
		PriTmplID string  `json:"priTmplId"`
	}{CodeOK, "ok", t.ID})
}

// newTemplateID is 43 chars of base64url, like real private template ids.
func newTemplateID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// POST /wxaapi/newtmpl/deltemplate {"priTmplId"}
func (e *Emulator) handleDelTemplate(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.tokenApp(w, r, c)
	if !ok {
		return
	}
	var req struct {
		PriTmplID string `json:"priTmplId"`
	}
	if code := readJSON(w, r, maxBodyBytes, &req); code != CodeOK {
		e.fail(w, c, code, "")
		return
	}
	if req.PriTmplID == "" || !e.env.Store.DeleteTemplate(Name, app.AppID, req.PriTmplID) {
		e.fail(w, c, CodeTmplPrivateMissing, "")
		return
	}
	c.ErrCode = 0
	writeJSON(w, errorBody{ErrCode: CodeOK, ErrMsg: "ok"})
}

// GET /wxaapi/newtmpl/getcategory
func (e *Emulator) handleGetCategory(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	if _, ok := e.tokenApp(w, r, c); !ok {
		return
	}
	e.mu.Lock()
	cats := e.library.categories
	e.mu.Unlock()
	type cat struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	data := make([]cat, 0, len(cats))
	for _, ct := range cats {
		data = append(data, cat{ct.ID, ct.Name})
	}
	c.ErrCode = 0
	writeJSON(w, struct {
		ErrCode ErrCode `json:"errcode"`
		ErrMsg  string  `json:"errmsg"`
		Data    []cat   `json:"data"`
	}{CodeOK, "ok", data})
}

// GET /wxaapi/newtmpl/getpubtemplatekeywords?tid=
func (e *Emulator) handlePubKeywords(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	if _, ok := e.tokenApp(w, r, c); !ok {
		return
	}
	tid, err := strconv.Atoi(r.URL.Query().Get("tid"))
	e.mu.Lock()
	lt := e.library.byTID[tid]
	e.mu.Unlock()
	if err != nil || lt == nil {
		e.fail(w, c, CodeTmplTID, "")
		return
	}
	type kw struct {
		KID     int    `json:"kid"`
		Name    string `json:"name"`
		Example string `json:"example"`
		Rule    string `json:"rule"`
	}
	data := make([]kw, 0, len(lt.Keywords))
	for _, k := range lt.Keywords {
		data = append(data, kw{k.KID, k.Name, k.Example, k.Rule})
	}
	c.ErrCode = 0
	writeJSON(w, struct {
		ErrCode ErrCode `json:"errcode"`
		ErrMsg  string  `json:"errmsg"`
		Count   int     `json:"count"`
		Data    []kw    `json:"data"`
	}{CodeOK, "ok", len(data), data})
}

// GET /wxaapi/newtmpl/getpubtemplatetitles?ids=616,307&start=0&limit=30
func (e *Emulator) handlePubTitles(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	if _, ok := e.tokenApp(w, r, c); !ok {
		return
	}
	q := r.URL.Query()
	if q.Get("ids") == "" {
		e.fail(w, c, CodeTmplIDsMissing, "")
		return
	}
	ids := map[int]bool{}
	for _, s := range strings.Split(q.Get("ids"), ",") {
		id, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			e.fail(w, c, CodeTmplIDsInvalid, "")
			return
		}
		ids[id] = true
	}
	start, err := strconv.Atoi(q.Get("start"))
	if err != nil || start < 0 {
		e.fail(w, c, CodeTmplStart, "")
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 30 {
		e.fail(w, c, CodeTmplLimitParam, "")
		return
	}
	type title struct {
		TID        int    `json:"tid"`
		Title      string `json:"title"`
		Type       int    `json:"type"`
		CategoryID string `json:"categoryId"`
	}
	e.mu.Lock()
	var all []title
	for _, t := range e.library.templates {
		if ids[t.CategoryID] {
			all = append(all, title{t.TID, t.Title, templateType(t.Type == mockapi.TemplateLongTerm), strconv.Itoa(t.CategoryID)})
		}
	}
	e.mu.Unlock()
	page := []title{}
	if start < len(all) {
		page = all[start:min(len(all), start+limit)]
	}
	c.ErrCode = 0
	writeJSON(w, struct {
		ErrCode ErrCode `json:"errcode"`
		ErrMsg  string  `json:"errmsg"`
		Count   int     `json:"count"`
		Data    []title `json:"data"`
	}{CodeOK, "ok", len(all), page})
}
