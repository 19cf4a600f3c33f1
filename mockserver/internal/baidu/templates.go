package baidu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// Template management (/rest/2.0/smartapp/template/…; swan-team/swan-docs
// serverapi/{addTemplate,deleteTemplate,getTemplateList,
// getTemplateLibraryList,getTemplateLibraryById}.md and the official Go
// SDK baidu/smartapp-openapi-go openapi/*Template*.go):
//
//	templateadd  id, keyword_id_list "[1,2,3]"  → {"template_id"}
//	templatedel  template_id                    → {"errno":0,"msg":"success"}
//	templatelist offset, count ≤ 20             → {"total_count","list":[{template_id,title,content,example}]}
//	librarylist  offset, count ≤ 20             → {"total_count","list":[{id,title}]}
//	libraryget   id                             → {id,title,keyword_count,keyword_list}
//
// access_token is always in the query (gateway codes as on every
// /rest/2.0/ API); the other parameters are merged from the query, a form
// body and a JSON body (readParams), since the doc, the official SDK and
// SKIT-Baidu each put them elsewhere. The doc headings say POST for
// templateadd/templatedel and GET for the lists, but templatedel's own curl
// uses GET: every call takes GET or POST (UNCONFIRMED which the platform
// refuses). App templates live in the shared store: one added here is
// listed by GET /_mock/templates and sent with subscribe/send; one
// registered through the control API is listed by templatelist.
//
// Parameter errors: the docs give "2002/30001 参数错误（具体提示见返回值）"
// for templateadd and 2002 for the rest. The mock answers 2002 for a
// missing or malformed parameter and 30001 for a well-formed one that names
// nothing (an unknown title, keyword or template): that split is
// UNCONFIRMED.
const (
	maxListCount = 20 // "最大为20"
	// ErrnoParamValue is templateadd's second parameter-error number.
	ErrnoParamValue Errno = 30001
)

// begin runs the common start of a template-management call: token,
// parameters, faults, method (GET or POST), quota. It returns the app and
// the merged parameters when the call may proceed.
func (e *Emulator) begin(w http.ResponseWriter, r *http.Request, c *platform.Call, endpoint string) (*store.App, url.Values, bool) {
	appID, gw := e.checkToken(r)
	p, bodyErr := readParams(w, r)
	c.AppID = appID
	app, ok := e.admit(w, r, c, gw, bodyErr, endpoint, http.MethodGet, http.MethodPost)
	return app, p, ok
}

// beginList is begin plus the page of a list call.
func (e *Emulator) beginList(w http.ResponseWriter, r *http.Request, c *platform.Call, endpoint string) (app *store.App, offset, count int, ok bool) {
	app, p, ok := e.begin(w, r, c, endpoint)
	if !ok {
		return nil, 0, 0, false
	}
	offset, count, detail := pageParams(p)
	if detail != "" {
		fail(w, c, ErrnoParam, detail)
		return nil, 0, 0, false
	}
	return app, offset, count, true
}

func success(w http.ResponseWriter, c *platform.Call, data any) {
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, businessAnswer{Errno: ErrnoOK, Msg: ErrnoOK.Message(), Data: data})
}

// pageParams reads offset (default 0) and count (default 0, at most 20).
func pageParams(p url.Values) (offset, count int, detail string) {
	offset, ok := intParam(p, "offset", 0, 1<<30)
	if !ok {
		return 0, 0, "offset must be a non-negative integer"
	}
	if count, ok = intParam(p, "count", 0, maxListCount); !ok {
		return 0, 0, "count must be an integer from 0 to 20"
	}
	return offset, count, ""
}

func window[T any](all []T, offset, count int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(offset+count, len(all))]
}

type libraryListItem struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type listAnswer[T any] struct {
	TotalCount int `json:"total_count"`
	List       []T `json:"list"`
}

// GET /rest/2.0/smartapp/template/librarylist?access_token=&offset=&count=
func (e *Emulator) handleLibraryList(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	_, offset, count, ok := e.beginList(w, r, c, EndpointLibraryList)
	if !ok {
		return
	}
	all := make([]libraryListItem, 0, len(e.library))
	for _, t := range e.library {
		all = append(all, libraryListItem{ID: t.ID, Title: t.Title})
	}
	success(w, c, listAnswer[libraryListItem]{TotalCount: len(all), List: window(all, offset, count)})
}

// GET /rest/2.0/smartapp/template/libraryget?access_token=&id=BD0016
func (e *Emulator) handleLibraryGet(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	_, p, ok := e.begin(w, r, c, EndpointLibraryGet)
	if !ok {
		return
	}
	id := p.Get("id")
	if id == "" {
		fail(w, c, ErrnoParam, "id is empty")
		return
	}
	t, found := e.libraryTitle(id)
	if !found {
		fail(w, c, ErrnoParam, "id "+id+" is not a title of the template library")
		return
	}
	success(w, c, struct {
		ID           string           `json:"id"`
		Title        string           `json:"title"`
		KeywordCount int              `json:"keyword_count"`
		KeywordList  []LibraryKeyword `json:"keyword_list"`
	}{t.ID, t.Title, len(t.Keywords), t.Keywords})
}

// newTemplateID looks like templateadd's example: 43 characters of
// base64url ("wDYzYZVxobJivW9oMpSCpuvACOfJXQIoKUm0PY397Tc").
func newTemplateID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// keywordKey is the data key of a template's n-th keyword (from 1): Baidu
// numbers them by position ("购买时间{{keyword1.DATA}}\n物品名称{{keyword2.DATA}}").
func keywordKey(n int) string { return "keyword" + strconv.Itoa(n) }

// POST /rest/2.0/smartapp/template/templateadd?access_token= id=BD0016&keyword_id_list=[1,2,3]
//
// id is a library title id (the doc's table says int, its example and the
// official SDK use the string "BD0016"); keyword_id_list a JSON array of
// the title's keyword ids, each once, in the order the template shows
// them. Baidu documents no count limits (UNCONFIRMED): at least one.
func (e *Emulator) handleTemplateAdd(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, p, ok := e.begin(w, r, c, EndpointTemplateAdd)
	if !ok {
		return
	}
	id, rawList := p.Get("id"), p.Get("keyword_id_list")
	var kids []int
	switch {
	case id == "":
		fail(w, c, ErrnoParam, "id is empty")
		return
	case rawList == "":
		fail(w, c, ErrnoParam, "keyword_id_list is empty")
		return
	case json.Unmarshal([]byte(rawList), &kids) != nil || len(kids) == 0:
		fail(w, c, ErrnoParam, "keyword_id_list must be a JSON array of keyword ids, e.g. [1,2,3]")
		return
	}
	lt, found := e.libraryTitle(id)
	if !found {
		fail(w, c, ErrnoParamValue, "id "+id+" is not a title of the template library")
		return
	}
	tid, _ := libraryNumber(lt.ID)
	t := &store.Template{ID: newTemplateID(), Title: lt.Title, Names: map[string]string{}, TID: tid,
		KIDs: slices.Clone(kids), Created: e.env.Clock.Now()}
	for i, kid := range kids {
		j := slices.IndexFunc(lt.Keywords, func(k LibraryKeyword) bool { return k.ID == kid })
		if j < 0 || slices.Contains(kids[:i], kid) {
			fail(w, c, ErrnoParamValue, "keyword_id_list holds "+strconv.Itoa(kid)+", not a keyword of "+lt.ID+" or listed twice")
			return
		}
		key := keywordKey(i + 1)
		t.Keywords = append(t.Keywords, key)
		t.Names[key] = lt.Keywords[j].Name
	}
	if err := e.env.Store.PutTemplate(Name, app.AppID, t); err != nil {
		gatewayFail(w, c, GatewayUnavailable)
		return
	}
	success(w, c, struct {
		TemplateID string `json:"template_id"`
	}{t.ID})
}

// POST /rest/2.0/smartapp/template/templatedel?access_token= template_id=
//
// Answers {"errno":0,"msg":"success"} without data, as the doc shows. The
// template's grants go with it: a later subscribe/send with it answers
// 4001.
func (e *Emulator) handleTemplateDel(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, p, ok := e.begin(w, r, c, EndpointTemplateDel)
	if !ok {
		return
	}
	id := p.Get("template_id")
	switch {
	case id == "":
		fail(w, c, ErrnoParam, "template_id is empty")
		return
	case !e.env.Store.DeleteTemplate(Name, app.AppID, id):
		fail(w, c, ErrnoParamValue, "template_id is not a template of this app")
		return
	}
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, struct {
		Errno Errno  `json:"errno"`
		Msg   string `json:"msg"`
	}{ErrnoOK, ErrnoOK.Message()})
}

type templateListItem struct {
	TemplateID string `json:"template_id"`
	Title      string `json:"title"`
	Content    string `json:"content"`
	Example    string `json:"example"`
}

// templateItem renders an app template as templatelist shows it: content
// "name{{keyN.DATA}}" lines, example "name: example" lines. A keyword
// without a display name shows its key; one not from the library (a
// template registered through the control API) has an empty example.
func (e *Emulator) templateItem(t *store.Template) templateListItem {
	lt, fromLibrary := e.libraryTitle(libraryID(t.TID))
	content := make([]string, 0, len(t.Keywords))
	example := make([]string, 0, len(t.Keywords))
	for i, key := range t.Keywords {
		name := key
		if n := t.Names[key]; n != "" {
			name = n
		}
		content = append(content, name+"{{"+key+".DATA}}")
		ex := ""
		if fromLibrary && t.TID != 0 && i < len(t.KIDs) {
			if j := slices.IndexFunc(lt.Keywords, func(k LibraryKeyword) bool { return k.ID == t.KIDs[i] }); j >= 0 {
				ex = lt.Keywords[j].Example
			}
		}
		example = append(example, name+": "+ex)
	}
	return templateListItem{TemplateID: t.ID, Title: t.Title, Content: strings.Join(content, "\n"), Example: strings.Join(example, "\n")}
}

// GET /rest/2.0/smartapp/template/templatelist?access_token=&offset=&count=
func (e *Emulator) handleTemplateList(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, offset, count, ok := e.beginList(w, r, c, EndpointTemplateList)
	if !ok {
		return
	}
	tmpls := e.env.Store.Templates(Name, app.AppID)
	all := make([]templateListItem, 0, len(tmpls))
	for _, t := range tmpls {
		all = append(all, e.templateItem(t))
	}
	success(w, c, listAnswer[templateListItem]{TotalCount: len(all), List: window(all, offset, count)})
}
