package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// secret is one secret setting: its inline value, the file it may be read
// from instead, and the environment variables (NAME, NAME_FILE) that
// override both. Every secret the sender holds is listed by secrets(), so
// loading from files and the environment, the both-given check, redaction
// and the permission warnings cover a new one (a push token, an AES key)
// by adding one row.
type secret struct {
	setting string  // "secret": the YAML key; the file's is setting+"_file"
	env     string  // "SECRET": the variable's suffix after the prefix; the file's adds "_FILE"
	value   *string // the inline value, filled from the file when loaded
	file    *string
	// public marks a key that is not secret (Alipay's public key): read
	// from files like the others, but never redacted or warned about.
	public bool
}

// secrets lists the app's secret settings.
func (a *App) secrets() []secret {
	ss := []secret{
		{setting: "secret", env: "SECRET", value: &a.Secret, file: &a.SecretFile},
		{setting: "private_key", env: "PRIVATE_KEY", value: &a.PrivateKey, file: &a.PrivateKeyFile},
		{setting: "alipay_public_key", env: "ALIPAY_PUBLIC_KEY", value: &a.AlipayPublicKey, file: &a.AlipayPublicKeyFile, public: true},
	}
	if e := a.Events; e != nil {
		ss = append(ss,
			secret{setting: "events.token", env: "EVENTS_TOKEN", value: &e.Token, file: &e.TokenFile},
			secret{setting: "events.encoding_aes_key", env: "EVENTS_ENCODING_AES_KEY", value: &e.EncodingAESKey, file: &e.EncodingAESKeyFile})
	}
	if w := a.Webhook; w != nil {
		ss = append(ss, secret{setting: "webhook.secret", env: "WEBHOOK_SECRET", value: &w.Secret, file: &w.SecretFile})
	}
	return ss
}

// secrets lists the storage's secret settings: the Redis URL (its
// password) and password, as storage.url[_file] and MINIPUSH_STORAGE_URL[_FILE].
func (st *Storage) secrets() []secret {
	return []secret{
		{setting: "url", env: "STORAGE_URL", value: &st.URL, file: &st.URLFile},
		{setting: "password", env: "STORAGE_PASSWORD", value: &st.Password, file: &st.PasswordFile},
	}
}

// secrets lists the key's secret settings.
func (k *APIKey) secrets() []secret {
	// MINIPUSH_API_KEY_<NAME> and MINIPUSH_API_KEY_<NAME>_FILE.
	ss := []secret{{setting: "key", env: "", value: &k.Key, file: &k.KeyFile}}
	if w := k.Webhook; w != nil {
		// MINIPUSH_API_KEY_<NAME>_WEBHOOK_SECRET[_FILE].
		ss = append(ss, secret{setting: "webhook.secret", env: "_WEBHOOK_SECRET", value: &w.Secret, file: &w.SecretFile})
	}
	return ss
}

// applySecretEnv lets PREFIX+ENV (the value) or PREFIX+ENV_FILE (a file to
// read it from) replace a secret's inline value and file.
func applySecretEnv(getenv func(string) string, prefix string, ss []secret) {
	for _, s := range ss {
		if v := getenv(prefix + s.env); v != "" {
			*s.value, *s.file = v, ""
		} else if f := getenv(prefix + s.env + "_FILE"); f != "" {
			*s.value, *s.file = "", f
		}
	}
}

// loadSecretFiles reads every secret given as a file. A secret given both
// inline and as a file is an error: which one wins would be a guess.
func (c *Config) loadSecretFiles() error {
	var errs []error
	load := func(where string, ss []secret) {
		for _, s := range ss {
			switch {
			case *s.file == "":
			case *s.value != "":
				errs = append(errs, fmt.Errorf("%s: give %s or %s_file, not both", where, s.setting, s.setting))
			default:
				b, err := os.ReadFile(*s.file)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.%s_file: %w", where, s.setting, err))
					continue
				}
				// A file written with echo ends in a newline that is not
				// part of the secret (PEM does not care).
				*s.value = strings.TrimRight(string(b), "\r\n")
				c.secretFiles = append(c.secretFiles, privateFile{path: *s.file, what: where + "." + s.setting + "_file", secret: !s.public})
			}
		}
	}
	for i := range c.APIKeys {
		load(fmt.Sprintf("api_keys[%d]", i), c.APIKeys[i].secrets())
	}
	for i := range c.Apps {
		load(fmt.Sprintf("apps[%d] (%s)", i, c.Apps[i].Name), c.Apps[i].secrets())
	}
	load("storage", c.Storage.secrets())
	if c.TLS.KeyFile != "" {
		c.secretFiles = append(c.secretFiles, privateFile{path: c.TLS.KeyFile, what: "tls.key_file", secret: true})
	}
	return errors.Join(errs...)
}

// hasInlineSecrets reports whether any secret was written in the file
// itself (then the file's permissions matter).
func (c *Config) hasInlineSecrets() bool {
	for i := range c.APIKeys {
		for _, s := range c.APIKeys[i].secrets() {
			if *s.value != "" && *s.file == "" {
				return true
			}
		}
	}
	for i := range c.Apps {
		for _, s := range c.Apps[i].secrets() {
			if !s.public && *s.value != "" && *s.file == "" {
				return true
			}
		}
	}
	if c.Storage.Password != "" || c.Storage.RedactedURL() != c.Storage.URL {
		return true // a password written in the file
	}
	return false
}

// redactSecrets replaces every secret value of ss.
func redactSecrets(ss []secret) {
	for _, s := range ss {
		if !s.public && *s.value != "" {
			*s.value = redacted
		}
	}
}

// TLS serves the API over HTTPS when both files are given (PEM).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether the listener speaks TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Load reads the certificate and key.
func (t TLS) Load() (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		// LoadX509KeyPair's errors name files and PEM blocks, never key
		// material.
		return tls.Certificate{}, fmt.Errorf("tls: %w", err)
	}
	return cert, nil
}

func (t TLS) check(bad func(setting, format string, args ...any)) {
	switch {
	case !t.Enabled():
	case t.CertFile == "":
		bad("tls.cert_file", "required with tls.key_file")
	case t.KeyFile == "":
		bad("tls.key_file", "required with tls.cert_file")
	default:
		if _, err := t.Load(); err != nil {
			bad("tls", "%v", err)
		}
	}
}

// privateFile is a file that holds secrets.
type privateFile struct {
	path   string
	what   string // the setting that names it
	secret bool
}

// Exposure is a file holding secrets that group or others may read.
type Exposure struct {
	Path string
	What string // the setting that names it ("config file", "storage.path", "apps[0] (shop).secret_file")
	Mode fs.FileMode
}

// Exposed lists the files holding the configuration's secrets that group
// or others can read: the config file when it holds secrets itself, every
// secret file, the TLS key, and the database with its -wal and -shm (which
// hold platform access tokens). Files that do not exist yet are skipped:
// the sender creates its own 0600.
func (c *Config) Exposed() []Exposure {
	files := []privateFile{}
	if c.source != "" && c.inlineSecrets {
		files = append(files, privateFile{path: c.source, what: "config file", secret: true})
	}
	files = append(files, c.secretFiles...)
	if c.Storage.Driver != DriverRedis {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			files = append(files, privateFile{path: c.Storage.Path + suffix, what: "storage.path" + suffix, secret: true})
		}
	}
	var out []Exposure
	for _, f := range files {
		if !f.secret {
			continue
		}
		st, err := os.Stat(f.path)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		out = append(out, Exposure{Path: f.path, What: f.what, Mode: st.Mode().Perm()})
	}
	return out
}
