package baidu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The template library (模板库) of templateadd, librarylist and libraryget.
// Title ids are "BD" and four digits (librarylist's "BD0001", libraryget's
// "BD0016"); keyword ids are small integers per title. The real library
// holds thousands of titles (total_count 2278 in the doc); the mock serves
// DemoLibrary.

// LibraryKeyword is one keyword of a library title.
type LibraryKeyword struct {
	ID      int    `json:"keyword_id"`
	Name    string `json:"name"`
	Example string `json:"example"`
}

// LibraryTitle is one title of the library.
type LibraryTitle struct {
	ID       string
	Title    string
	Keywords []LibraryKeyword
}

// DemoLibrary is the mock's library: libraryget's documented example
// (BD0016 取票成功通知 with its 13 keywords) and a few common titles.
func DemoLibrary() []LibraryTitle {
	kw := func(pairs ...string) []LibraryKeyword {
		out := make([]LibraryKeyword, 0, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, LibraryKeyword{ID: i/2 + 1, Name: pairs[i], Example: pairs[i+1]})
		}
		return out
	}
	return []LibraryTitle{
		{ID: "BD0001", Title: "订单支付成功通知", Keywords: kw("订单号", "321254555", "支付金额", "300元", "支付时间", "2016年9月9日 10:10", "商品名称", "奶茶")},
		{ID: "BD0002", Title: "续费成功通知", Keywords: kw("购买时间", "2016年6月6日", "物品名称", "奶茶", "到期时间", "2017年6月6日")},
		{ID: "BD0003", Title: "预约成功通知", Keywords: kw("预约项目", "体检", "预约时间", "2019年10月23日 12:30", "预约地点", "百度科技园", "联系电话", "16601213222")},
		{ID: "BD0016", Title: "取票成功通知", Keywords: kw("金额", "300元", "订单号", "321254555", "预订时间", "2016年9月9日 10：10",
			"发车时间", "2016年9月10日 10：20", "出发地", "广州", "目的地", "北京", "备注", "请尽快完成支付", "上车地点", "3号口",
			"车牌号", "粤A00951", "司机姓名", "王师傅", "手机号码", "15201912039", "联系人", "张三", "坐席类型", "一等座")},
	}
}

// libraryNumber is the number in a title id ("BD0016" → 16), stored as the
// template's TID; libraryID is the inverse.
func libraryNumber(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "BD")
	if !ok || len(rest) != 4 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}

func libraryID(n int) string { return fmt.Sprintf("BD%04d", n) }

func (e *Emulator) libraryTitle(id string) (LibraryTitle, bool) {
	i := slices.IndexFunc(e.library, func(t LibraryTitle) bool { return t.ID == id })
	if i < 0 {
		return LibraryTitle{}, false
	}
	return e.library[i], true
}
