package redact_test

import (
	"fmt"

	"github.com/minipush/minipush/mockserver/internal/redact"
)

func Example() {
	fmt.Println(redact.Query("grant_type=client_credential&appid=wx0123&secret=s3cr3t"))
	fmt.Println(string(redact.Text([]byte(`{"access_token":"80_Ab.cd","expires_in":7200}`))))
	// Output:
	// grant_type=client_credential&appid=wx0123&secret=***
	// {"access_token":"***","expires_in":7200}
}
