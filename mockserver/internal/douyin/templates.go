package douyin

import (
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minipush/minipush/mockserver/internal/platform"
	"github.com/minipush/minipush/mockserver/internal/store"
)

// v2 subscription template management (open.douyin.com,
// /api/notification/v2/subscription/…; the docs under
// https://developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/server/subscribe-notification/
// and fudiwei/DotNetCore.SKIT.FlurlHttpClient.ByteDance
// DouyinMicroAppClientExecuteNotificationSubscriptionExtensions.cs):
//
//	GET  query_tpl_list/         the public library
//	POST create_tpl/             propose a public template
//	GET  query_created_tpl_list/ the templates the app proposed
//	POST add_app_tpl/            an app template (msg_id) from a public one
//	GET  query_app_tpl/          the app's templates
//	POST delete_app_tpl/         remove one
//
// Every call carries a client token in the access-token header and answers
// {"err_no","err_msg","log_id","data"}. App templates live in the shared
// store, so a template added here shows in GET /_mock/templates and one
// registered there is listed by query_app_tpl and accepted by notify_user.
// The documented parameter error is 28001038 参数错误 with the reason in
// err_msg.
const (
	maxPageSize        = 50 // "page_size 小于等于50"
	maxAppKeywords     = 5  // add_app_tpl keyword_list: 1–5
	maxCreatedKeywords = 10 // create_tpl keyword_list: at most 10
	minTitleRunes      = 2  // create_tpl title and keywords: 2–8 characters
	maxTitleRunes      = 8
)

// Review states of a proposed template (query_created_tpl_list "status").
// The doc names the field 审核状态 without listing its values; the mock's
// reading (UNCONFIRMED) fits the doc's example, status 1 with an empty
// fail_reason. The mock approves a proposal at once: it joins the public
// library and can be added with add_app_tpl.
const (
	reviewPending  = 0
	reviewApproved = 1
	reviewRejected = 2
)

// createdTemplate is one create_tpl proposal of an app.
type createdTemplate struct {
	Title          string   `json:"title"`
	Keywords       []string `json:"keyword_list"`
	Classification int      `json:"classification"`
	Hosts          []string `json:"host_list"`
	OperatingTime  int64    `json:"operating_time"`
	Status         int      `json:"status"`
	FailReason     string   `json:"fail_reason"`
}

// libraryItem is a query_tpl_list entry; appItem adds the msg_id of an app
// template (query_app_tpl).
type libraryItem struct {
	TemplateID     int64    `json:"template_id"`
	Classification int      `json:"classification"`
	CategoryName   string   `json:"category_name"`
	Title          string   `json:"title"`
	Hosts          []string `json:"host_list"`
	Keywords       []string `json:"keyword_list"`
}

type appItem struct {
	libraryItem
	MsgID string `json:"msg_id"`
}

type listData[T any] struct {
	TotalCount int `json:"total_count"`
	List       []T `json:"template_list"`
}

// get guards a GET API (the query APIs of template management).
func (e *Emulator) get(fn platform.HandlerFunc) platform.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		if r.Method != http.MethodGet {
			e.notAPI(w, r, c, http.StatusMethodNotAllowed)
			return
		}
		fn(w, r, c)
	}
}

// openCaller runs the common start of an open.douyin.com call once its
// body is read: it identifies the caller from the client token (openID from
// the body, if any), applies faults, answers token failures and the
// endpoint's quota. It returns the app when the call may proceed.
func (e *Emulator) openCaller(w http.ResponseWriter, r *http.Request, c *platform.Call, endpoint, openID string) (*store.App, bool) {
	appID, state := e.checkToken(r.Header.Get("access-token"), false)
	c.AppID, c.OpenID = appID, openID
	if e.fault(w, r, c, famOpen) {
		return nil, false
	}
	switch state {
	case tokenMissing, tokenInvalid:
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return nil, false
	case tokenExpired:
		e.fail(w, c, famOpen, CodeTokenExpired)
		return nil, false
	}
	app, found := e.env.Store.App(Name, appID)
	if !found { // the app was removed after the token was issued
		e.fail(w, c, famOpen, CodeTokenInvalid)
		return nil, false
	}
	if l, ok := e.env.Take(app, endpoint); !ok {
		e.fail(w, c, famOpen, quotaCode(l))
		return nil, false
	}
	return app, true
}

// ok answers success with data (nil: the envelope only).
func (e *Emulator) ok(w http.ResponseWriter, c *platform.Call, data any) {
	c.ErrCode = 0
	writeJSON(w, http.StatusOK, openAnswer{ErrNo: CodeOK, ErrMsg: "", LogID: e.logID(), Data: data})
}

// paramError answers 28001038 naming the parameter.
func (e *Emulator) paramError(w http.ResponseWriter, c *platform.Call, detail string) {
	e.failMsg(w, c, famOpen, CodeParamError, CodeParamError.Message()+": "+detail)
}

var errParam = errors.New("bad parameter")

// intParam reads an integer query parameter within [lo, hi]; a missing one
// is def when not required.
func intParam(q url.Values, name string, required bool, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		if required {
			return 0, errors.New(name + " is required")
		}
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.New(name + " must be an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}

// categoryIDs parses "79,117,158".
func categoryIDs(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ids []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 {
			return nil, errParam
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// page cuts one page out of items (page_num from 1).
func page[T any](items []T, num, size int) []T {
	start := (num - 1) * size
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+size, len(items))]
}

// pageParams reads page_num (≥1) and page_size (1–50), both required.
func pageParams(q url.Values) (num, size int, err error) {
	if num, err = intParam(q, "page_num", true, 0, 1, 1<<30); err != nil {
		return 0, 0, err
	}
	size, err = intParam(q, "page_size", true, 0, 1, maxPageSize)
	return num, size, err
}

// listParams reads the parameters query_tpl_list and query_app_tpl share:
// classification (required, 1 or 2), the page, and category_ids.
func listParams(q url.Values) (class, num, size int, cats []int, err error) {
	if class, err = intParam(q, "classification", true, 0, classOneTime, classLongTerm); err != nil {
		return
	}
	if num, size, err = pageParams(q); err != nil {
		return
	}
	if cats, err = categoryIDs(q.Get("category_ids")); err != nil {
		err = errors.New("category_ids must be ids separated by commas, e.g. 79,117")
	}
	return
}

func (e *Emulator) libraryItem(t LibraryTemplate) libraryItem {
	cat, _ := e.library.category(t.CategoryID)
	return libraryItem{TemplateID: t.ID, Classification: t.Classification, CategoryName: cat.Name, Title: t.Title,
		Hosts: slices.Clone(t.Hosts), Keywords: slices.Clone(t.Keywords)}
}

// GET /api/notification/v2/subscription/query_tpl_list/?classification=&template_type=1&page_num=&page_size=&category_ids=&keyword=
func (e *Emulator) handleQueryTplList(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	if _, ok := e.openCaller(w, r, c, EndpointQueryTplList, ""); !ok {
		return
	}
	q := r.URL.Query()
	// template_type is documented as required with the single value 1
	// (公共模版); SKIT-ByteDance leaves it out when unset, so a missing
	// one is read as 1 (UNCONFIRMED).
	if _, err := intParam(q, "template_type", false, 1, 1, 1); err != nil {
		e.paramError(w, c, err.Error())
		return
	}
	class, num, size, cats, err := listParams(q)
	if err != nil {
		e.paramError(w, c, err.Error())
		return
	}
	keyword := strings.TrimSpace(q.Get("keyword"))
	e.libMu.Lock()
	var all []libraryItem
	for _, t := range e.library.Templates {
		if t.matches(class, cats, keyword) {
			all = append(all, e.libraryItem(t))
		}
	}
	e.libMu.Unlock()
	e.ok(w, c, listData[libraryItem]{TotalCount: len(all), List: page(all, num, size)})
}

type createTplRequest struct {
	CategoryIDs    string   `json:"category_ids"`
	Classification int      `json:"classification"`
	Title          string   `json:"title"`
	Hosts          []string `json:"host_list"`
	Keywords       []string `json:"keyword_list"`
}

// checkCreate validates a create_tpl body against the documented limits
// and the library's categories; it returns the first category.
func (e *Emulator) checkCreate(req *createTplRequest) (int, string) {
	cats, err := categoryIDs(req.CategoryIDs)
	if err != nil || len(cats) == 0 {
		return 0, "category_ids must be category ids separated by commas, e.g. 8,9,16"
	}
	for _, id := range cats {
		if _, ok := e.library.category(id); !ok {
			return 0, "category_ids holds an unknown category " + strconv.Itoa(id)
		}
	}
	if req.Classification != classOneTime && req.Classification != classLongTerm {
		return 0, "classification must be 1 (one-time) or 2 (long-term)"
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(req.Title)); n < minTitleRunes || n > maxTitleRunes {
		return 0, "title must be 2 to 8 characters"
	}
	if len(req.Hosts) == 0 {
		return 0, "host_list is required"
	}
	for i, h := range req.Hosts {
		if !slices.Contains(hosts, h) || slices.Contains(req.Hosts[:i], h) {
			return 0, "host_list must hold distinct values of douyin, douyin_lite, toutiao"
		}
	}
	if len(req.Keywords) == 0 || len(req.Keywords) > maxCreatedKeywords {
		return 0, "keyword_list must hold 1 to 10 keywords"
	}
	for i, k := range req.Keywords {
		if n := utf8.RuneCountInString(strings.TrimSpace(k)); n < minTitleRunes || n > maxTitleRunes {
			return 0, "keyword_list[" + strconv.Itoa(i) + "] must be 2 to 8 characters"
		}
		if slices.Contains(req.Keywords[:i], k) {
			return 0, "keyword_list[" + strconv.Itoa(i) + "] is listed twice"
		}
	}
	return cats[0], ""
}

// POST /api/notification/v2/subscription/create_tpl/
// {"category_ids","classification","title","host_list","keyword_list"}
func (e *Emulator) handleCreateTpl(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req createTplRequest
	ok := readJSON(w, r, &req)
	app, allowed := e.openCaller(w, r, c, EndpointCreateTpl, "")
	if !allowed {
		return
	}
	if !ok {
		e.paramError(w, c, "the body must be a JSON object")
		return
	}
	e.libMu.Lock()
	defer e.libMu.Unlock()
	category, why := e.checkCreate(&req)
	if why != "" {
		e.paramError(w, c, why)
		return
	}
	title := strings.TrimSpace(req.Title)
	t := LibraryTemplate{ID: e.nextTplID, Classification: req.Classification, CategoryID: category, Title: title,
		Hosts: slices.Clone(req.Hosts), Keywords: slices.Clone(req.Keywords)}
	e.nextTplID++
	e.library.Templates = append(e.library.Templates, t)
	e.created[app.AppID] = append(e.created[app.AppID], createdTemplate{Title: title, Keywords: t.Keywords,
		Classification: t.Classification, Hosts: t.Hosts, OperatingTime: e.env.Clock.Now().Unix(), Status: reviewApproved})
	e.ok(w, c, nil)
}

// GET /api/notification/v2/subscription/query_created_tpl_list/?page_num=&page_size=&status=
func (e *Emulator) handleQueryCreatedTplList(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.openCaller(w, r, c, EndpointQueryCreatedTplList, "")
	if !ok {
		return
	}
	q := r.URL.Query()
	num, size, err := pageParams(q)
	if err != nil {
		e.paramError(w, c, err.Error())
		return
	}
	status, err := intParam(q, "status", false, -1, reviewPending, reviewRejected)
	if err != nil {
		e.paramError(w, c, err.Error())
		return
	}
	e.libMu.Lock()
	all := []createdTemplate{}
	for _, t := range e.created[app.AppID] {
		if status < 0 || t.Status == status {
			all = append(all, t)
		}
	}
	e.libMu.Unlock()
	e.ok(w, c, listData[createdTemplate]{TotalCount: len(all), List: page(all, num, size)})
}

type addAppTplRequest struct {
	TemplateID int64    `json:"template_id"`
	Keywords   []string `json:"keyword_list"`
}

// msgIDDigits: real msg_ids are "MSG" and a long number
// ("MSG1809092137217501526560818743552"); the doc example is MSG123456.
const msgIDDigits = 31

func newMsgID() string {
	var b strings.Builder
	b.WriteString("MSG1")
	for range msgIDDigits - 1 {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + n.Int64()))
	}
	return b.String()
}

// POST /api/notification/v2/subscription/add_app_tpl/
// {"template_id":12259,"keyword_list":["物品名称","快递单号"]} → {"msg_id"}
//
// The keywords (1–5) must belong to the public template; their names are
// the new template's data keys, in the order given. Whether Douyin refuses
// a second identical template, and how many an app may hold, is not
// documented (UNCONFIRMED): the mock accepts both.
func (e *Emulator) handleAddAppTpl(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req addAppTplRequest
	ok := readJSON(w, r, &req)
	app, allowed := e.openCaller(w, r, c, EndpointAddAppTpl, "")
	if !allowed {
		return
	}
	if !ok {
		e.paramError(w, c, "the body must be a JSON object with template_id (a number) and keyword_list")
		return
	}
	e.libMu.Lock()
	lt, found := e.library.template(req.TemplateID)
	e.libMu.Unlock()
	switch {
	case req.TemplateID <= 0:
		e.paramError(w, c, "template_id is required")
		return
	case !found:
		e.paramError(w, c, "template_id "+strconv.FormatInt(req.TemplateID, 10)+" is not a public template")
		return
	case len(req.Keywords) == 0 || len(req.Keywords) > maxAppKeywords:
		e.paramError(w, c, "keyword_list must hold 1 to 5 keywords of the template")
		return
	}
	for i, k := range req.Keywords {
		if !slices.Contains(lt.Keywords, k) || slices.Contains(req.Keywords[:i], k) {
			e.paramError(w, c, "keyword_list["+strconv.Itoa(i)+"] is not a keyword of the template, or is listed twice")
			return
		}
	}
	t := &store.Template{ID: newMsgID(), Title: lt.Title, Keywords: slices.Clone(req.Keywords),
		LongTerm: lt.Classification == classLongTerm, TID: int(lt.ID), Created: e.env.Clock.Now()}
	if err := e.env.Store.PutTemplate(Name, app.AppID, t); err != nil {
		e.fail(w, c, famOpen, CodeBusy)
		return
	}
	e.ok(w, c, struct {
		MsgID string `json:"msg_id"`
	}{t.ID})
}

// appItem describes an app template. One registered through the control
// API has no public template: template_id 0, no category, no hosts.
func (e *Emulator) appItem(t *store.Template) appItem {
	class := classOneTime
	if t.LongTerm {
		class = classLongTerm
	}
	it := appItem{MsgID: t.ID, libraryItem: libraryItem{Classification: class, Title: t.Title, Hosts: []string{},
		Keywords: make([]string, 0, len(t.Keywords))}}
	for _, k := range t.Keywords {
		name := k
		if n := t.Names[k]; n != "" {
			name = n
		}
		it.Keywords = append(it.Keywords, name)
	}
	if lt, ok := e.library.template(int64(t.TID)); ok && t.TID != 0 {
		cat, _ := e.library.category(lt.CategoryID)
		it.TemplateID, it.CategoryName, it.Hosts = lt.ID, cat.Name, slices.Clone(lt.Hosts)
	}
	return it
}

// GET /api/notification/v2/subscription/query_app_tpl/?classification=&page_num=&page_size=&category_ids=
func (e *Emulator) handleQueryAppTpl(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	app, ok := e.openCaller(w, r, c, EndpointQueryAppTpl, "")
	if !ok {
		return
	}
	class, num, size, cats, err := listParams(r.URL.Query())
	if err != nil {
		e.paramError(w, c, err.Error())
		return
	}
	all := []appItem{}
	e.libMu.Lock()
	for _, t := range e.env.Store.Templates(Name, app.AppID) {
		it := e.appItem(t)
		if it.Classification != class {
			continue
		}
		if len(cats) > 0 {
			lt, ok := e.library.template(it.TemplateID)
			if !ok || !slices.Contains(cats, lt.CategoryID) {
				continue
			}
		}
		all = append(all, it)
	}
	e.libMu.Unlock()
	e.ok(w, c, listData[appItem]{TotalCount: len(all), List: page(all, num, size)})
}

// POST /api/notification/v2/subscription/delete_app_tpl/ {"msg_id"}
//
// The template and every user's grant for it go (store.DeleteTemplate): a
// later notify_user with that msg_id is refused. An msg_id that is not the
// app's answers 28001038 (UNCONFIRMED: no specific code is documented).
func (e *Emulator) handleDeleteAppTpl(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req struct {
		MsgID string `json:"msg_id"`
	}
	ok := readJSON(w, r, &req)
	app, allowed := e.openCaller(w, r, c, EndpointDeleteAppTpl, "")
	if !allowed {
		return
	}
	switch {
	case !ok || req.MsgID == "":
		e.paramError(w, c, "msg_id is required")
		return
	case !e.env.Store.DeleteTemplate(Name, app.AppID, req.MsgID):
		e.paramError(w, c, "msg_id is not a template of this app")
		return
	}
	e.ok(w, c, nil)
}
