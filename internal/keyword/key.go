package keyword

import (
	"fmt"
	"regexp"
)

var typedKey = regexp.MustCompile(`^[a-z_]+[0-9]+$`)

// CheckKey says whether key can name a keyword of a WeChat template: a known
// type followed by digits ("thing1", "character_string12").
func CheckKey(key string) error {
	if !typedKey.MatchString(key) {
		return fmt.Errorf("keyword %q must be a type followed by digits, e.g. thing1", key)
	}
	if !Known(Type(key)) {
		return fmt.Errorf("keyword %q has unknown type %q", key, Type(key))
	}
	return nil
}

var numberedKey = regexp.MustCompile(`^keyword[0-9]+$`)

// CheckNumberedKey accepts the "keyword1", "keyword2" … keys of platforms
// whose templates number their keywords (Alipay, Baidu), or a typed key.
func CheckNumberedKey(key string) error {
	if numberedKey.MatchString(key) {
		return nil
	}
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("keyword %q must be keyword<N> or a typed key such as thing1", key)
	}
	return nil
}
