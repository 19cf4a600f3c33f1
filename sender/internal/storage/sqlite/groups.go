package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/minipush/minipush/sender/internal/storage"
)

const (
	sqlPutGroup = `INSERT INTO groups (app, name, members, updated_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (app, name) DO UPDATE SET members = excluded.members, updated_at = excluded.updated_at`
	sqlDeleteGroup = `DELETE FROM groups WHERE app = ? AND name = ?`
	sqlGetGroup    = `SELECT members FROM groups WHERE app = ? AND name = ?`
)

// PutGroup implements storage.Store: it creates or replaces the group.
func (s *Store) PutGroup(ctx context.Context, app, name string, members []string) error {
	if members == nil {
		members = []string{}
	}
	b, err := json.Marshal(members)
	if err != nil {
		return fmt.Errorf("put group %s/%s: %w", app, name, err)
	}
	updated := toMS(s.now())
	return s.submit(ctx, true, func(w *writer) error {
		if _, err := w.st.putGroup.Exec(app, name, string(b), updated); err != nil {
			return fmt.Errorf("put group %s/%s: %w", app, name, err)
		}
		return nil
	})
}

// Group implements storage.Store; storage.ErrNotFound when there is none.
// An empty group is an empty, non-nil slice.
func (s *Store) Group(ctx context.Context, app, name string) ([]string, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var raw string
	err := s.rdb.QueryRowContext(ctx, sqlGetGroup, app, name).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get group %s/%s: %w", app, name, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get group %s/%s: %w", app, name, err)
	}
	members := []string{}
	if err := json.Unmarshal([]byte(raw), &members); err != nil {
		return nil, fmt.Errorf("get group %s/%s: decode members: %w", app, name, err)
	}
	return members, nil
}

// DeleteGroup implements storage.Store; storage.ErrNotFound when there is
// none.
func (s *Store) DeleteGroup(ctx context.Context, app, name string) error {
	return s.submit(ctx, true, func(w *writer) error {
		res, err := w.st.deleteGroup.Exec(app, name)
		if err != nil {
			return fmt.Errorf("delete group %s/%s: %w", app, name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete group %s/%s: %w", app, name, err)
		} else if n == 0 {
			return fmt.Errorf("delete group %s/%s: %w", app, name, storage.ErrNotFound)
		}
		return nil
	})
}
