package douyin

import (
	"slices"
	"strings"
)

// The public template library (公共模板库) of the v2 subscription APIs:
// query_tpl_list reads it, create_tpl adds to it, add_app_tpl makes an
// app's template (msg_id) from one of its entries. Template ids are int64
// ("template_id": 12259 in the docs); classification 1 is one-time, 2
// long-term; host_list names the host apps (douyin, douyin_lite, toutiao).
//
// The real library holds thousands of entries per service category; the
// mock starts from DemoLibrary (a few entries in three categories) and
// grows with create_tpl until the next reset.

// Classifications of a template (query_tpl_list, create_tpl).
const (
	classOneTime  = 1
	classLongTerm = 2
)

// hosts are the documented host_list values.
var hosts = []string{"douyin", "douyin_lite", "toutiao"}

// LibraryTemplate is one public template.
type LibraryTemplate struct {
	ID             int64
	Classification int
	CategoryID     int
	Title          string
	Hosts          []string
	Keywords       []string // keyword names, the data keys of notify_user
}

// Category is a service category (服务类目) of the library.
type Category struct {
	ID   int
	Name string
}

// Library is the public library: categories and templates.
type Library struct {
	Categories []Category
	Templates  []LibraryTemplate
}

// DemoLibrary is the library a mock starts with. Ids follow the docs'
// examples (template 12259; categories "79,117,158").
func DemoLibrary() Library {
	all := slices.Clone(hosts)
	return Library{
		Categories: []Category{{79, "电商平台"}, {117, "生活服务"}, {158, "预约服务"}},
		Templates: []LibraryTemplate{
			{ID: 12259, Classification: classOneTime, CategoryID: 79, Title: "订单发货通知", Hosts: all,
				Keywords: []string{"物品名称", "快递单号", "发货时间", "订单状态", "收货地址", "快递公司"}},
			{ID: 12260, Classification: classOneTime, CategoryID: 79, Title: "购买成功通知", Hosts: all,
				Keywords: []string{"物品名称", "购买金额", "购买时间", "订单编号"}},
			{ID: 12261, Classification: classLongTerm, CategoryID: 158, Title: "预约提醒", Hosts: []string{"douyin", "douyin_lite"},
				Keywords: []string{"预约项目", "预约时间", "预约地点", "备注"}},
			{ID: 12262, Classification: classOneTime, CategoryID: 117, Title: "服务进度通知", Hosts: []string{"douyin"},
				Keywords: []string{"服务名称", "当前进度", "更新时间"}},
		},
	}
}

// firstCreatedID numbers the templates create_tpl adds, above the demo
// library's.
const firstCreatedID = 20_000

func (l *Library) category(id int) (Category, bool) {
	i := slices.IndexFunc(l.Categories, func(c Category) bool { return c.ID == id })
	if i < 0 {
		return Category{}, false
	}
	return l.Categories[i], true
}

func (l *Library) template(id int64) (LibraryTemplate, bool) {
	i := slices.IndexFunc(l.Templates, func(t LibraryTemplate) bool { return t.ID == id })
	if i < 0 {
		return LibraryTemplate{}, false
	}
	return l.Templates[i], true
}

// matches reports whether t is listed by a query_tpl_list filter:
// classification, any of the categories (none: all), and the keyword
// found in the title or a keyword name (the doc does not say what the
// search covers; UNCONFIRMED).
func (t *LibraryTemplate) matches(classification int, categories []int, keyword string) bool {
	if t.Classification != classification {
		return false
	}
	if len(categories) > 0 && !slices.Contains(categories, t.CategoryID) {
		return false
	}
	if keyword == "" || strings.Contains(t.Title, keyword) {
		return true
	}
	return slices.ContainsFunc(t.Keywords, func(k string) bool { return strings.Contains(k, keyword) })
}
