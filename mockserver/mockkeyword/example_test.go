package mockkeyword_test

import (
	"errors"
	"fmt"

	"github.com/minipush/minipush/mockserver/mockkeyword"
)

// The mock's verdict on a value, as its send endpoints would answer it.
func ExampleWeChat() {
	fmt.Println(mockkeyword.WeChat("thing1", "您的订单已发货", nil))
	err := mockkeyword.WeChat("thing1", "您的订单已发货，请留意查收快递信息谢谢您！", nil)
	var v *mockkeyword.Violation
	if errors.As(err, &v) {
		fmt.Println(v.Reason == mockkeyword.ReasonTooLong, v.Limit, err)
	}
	fmt.Println(mockkeyword.WeChat("time2", "15:01～16:00", nil))
	// Output:
	// <nil>
	// true 20 data.thing1.value exceeds limit
	// data.time2.value invalid
}

func ExampleKuaishou() {
	fmt.Println(mockkeyword.Kuaishou("date01", "2020年02月25号"))
	fmt.Println(mockkeyword.Kuaishou("date01", "2020-02-25"))
	fmt.Println(mockkeyword.Type("licensePlate01"), mockkeyword.KuaishouKnownType("licensePlate"))
	// Output:
	// <nil>
	// data.date01.value invalid
	// licensePlate true
}
