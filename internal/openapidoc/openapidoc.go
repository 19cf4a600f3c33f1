// Package openapidoc serves an OpenAPI document written in YAML as JSON
// (GET /openapi.json): each server embeds its own document and hands it
// here. The document is converted once, when the Doc is made, so a
// document that does not parse stops the program's start (and its tests)
// rather than a client's request.
package openapidoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Doc is one OpenAPI document.
type Doc struct {
	yaml, json []byte
}

// New converts a YAML document to JSON.
func New(spec []byte) (*Doc, error) {
	var v any
	if err := yaml.Unmarshal(spec, &v); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("openapi document: want a mapping at the top, got %T", v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("openapi document to JSON: %w", err)
	}
	return &Doc{yaml: spec, json: buf.Bytes()}, nil
}

// Must is New for embedded documents, whose tests prove they parse.
func Must(spec []byte) *Doc {
	d, err := New(spec)
	if err != nil {
		panic(err)
	}
	return d
}

// YAML is the document as written.
func (d *Doc) YAML() []byte { return d.yaml }

// JSON is the document as served.
func (d *Doc) JSON() []byte { return d.json }

// ServeHTTP answers GET (and HEAD) with the JSON document.
func (d *Doc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(d.json)))
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.json)
	}
}
