package keyword

import "fmt"

// CheckKey says whether key can name a keyword of a WeChat template: a
// type of the table in lower case and underscores, then digits ("thing1",
// "character_string12") — the "{{thing1.DATA}}" of a template's content.
func CheckKey(key string) error {
	t := Type(key)
	if t == key || t == "" || !lowerSnake(t) {
		return fmt.Errorf("keyword %q must be a type followed by digits, e.g. thing1", key)
	}
	if !Known(t) {
		return fmt.Errorf("keyword %q has unknown type %q", key, t)
	}
	return nil
}

// CheckNumberedKey accepts the "keyword1", "keyword2" … keys of platforms
// whose templates number their keywords (Alipay, Baidu), or a typed key.
func CheckNumberedKey(key string) error {
	if Type(key) == "keyword" && key != "keyword" {
		return nil
	}
	if CheckKey(key) != nil {
		return fmt.Errorf("keyword %q must be keyword<N> or a typed key such as thing1", key)
	}
	return nil
}

func lowerSnake(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}
