package push

import "fmt"

// Answer is one template of a subscribe popup the user answered.
type Answer struct {
	TemplateID string
	// LongTerm says the template is a long-term one.
	LongTerm bool
	Accept   bool
}

// What a pushed event means for the mock's world, when the event describes
// a user's action (a hand-written event, POST /_mock/events): the control
// API applies it as the platform would have before pushing.
const (
	EffectAccept  = "accept"  // the user accepted a template: one credit, or a long-term grant
	EffectReject  = "reject"  // the user rejected a template: no sends until accepted again
	EffectSession = "session" // the user wrote to customer service or entered the session
)

// Effect is one consequence of an event.
type Effect struct {
	Kind       string
	OpenID     string
	TemplateID string // accept, reject
	// Field names where the template id came from, for errors.
	Field string
	// Trigger is the customer-service trigger of a session effect
	// ("message" or "enter", store.KefuTrigger values).
	Trigger string
}

// FieldError is a bad hand-written event, naming the field (a path such as
// "event.List[1].TemplateId").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// BadField returns a FieldError.
func BadField(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}
