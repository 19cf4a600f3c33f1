package wechat

import (
	"github.com/minipush/minipush/mockserver/mockapi"
)

// library is the public template library (getcategory, getpubtemplate*).
// It is read-only after Reset.
type library struct {
	categories []mockapi.Category
	templates  []mockapi.LibraryTemplate
	byTID      map[int]*mockapi.LibraryTemplate
}

func newLibrary(l *mockapi.Library) *library {
	if l == nil {
		l = DemoLibrary()
	}
	lib := &library{categories: l.Categories, templates: l.Templates, byTID: map[int]*mockapi.LibraryTemplate{}}
	for i := range lib.templates {
		lib.byTID[lib.templates[i].TID] = &lib.templates[i]
	}
	return lib
}

// DemoLibrary is a small library in the platform's shape: two categories and
// a few public templates with typed keywords.
func DemoLibrary() *mockapi.Library {
	return &mockapi.Library{
		Categories: []mockapi.Category{{ID: 616, Name: "公益"}, {ID: 307, Name: "快递业与邮政"}, {ID: 670, Name: "电商平台"}},
		Templates: []mockapi.LibraryTemplate{
			{TID: 99, Title: "付款成功通知", CategoryID: 616, Type: mockapi.TemplateOneTime, Keywords: []mockapi.LibraryKeyword{
				{KID: 1, Name: "物品名称", Example: "名称", Rule: "thing"},
				{KID: 2, Name: "付款金额", Example: "¥100.00", Rule: "amount"},
				{KID: 3, Name: "付款时间", Example: "2019年10月1日 15:01", Rule: "time"},
				{KID: 4, Name: "订单号", Example: "A2019100112345", Rule: "character_string"},
			}},
			{TID: 1432, Title: "订单发货通知", CategoryID: 307, Type: mockapi.TemplateOneTime, Keywords: []mockapi.LibraryKeyword{
				{KID: 1, Name: "商品名称", Example: "小米手机", Rule: "thing"},
				{KID: 2, Name: "快递单号", Example: "SF1234567890", Rule: "character_string"},
				{KID: 3, Name: "发货时间", Example: "2019年10月1日", Rule: "date"},
				{KID: 4, Name: "订单状态", Example: "已发货", Rule: "phrase"},
				{KID: 5, Name: "联系电话", Example: "+86-0766-66888866", Rule: "phone_number"},
			}},
			{TID: 5678, Title: "预约提醒", CategoryID: 670, Type: mockapi.TemplateLongTerm, Keywords: []mockapi.LibraryKeyword{
				{KID: 1, Name: "预约人", Example: "张三", Rule: "name"},
				{KID: 2, Name: "预约时间", Example: "15:01", Rule: "time"},
				{KID: 3, Name: "车牌号", Example: "粤A8Z888挂", Rule: "car_number"},
				{KID: 4, Name: "数量", Example: "3", Rule: "number"},
			}},
		},
	}
}
