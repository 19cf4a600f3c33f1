package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors Open refuses to start with (docs/operations.md).
var (
	// ErrDamaged: the database file fails SQLite's integrity check (or is
	// not a database at all). Serving from it would answer 202 for writes
	// that land in a broken file.
	ErrDamaged = errors.New("database damaged")
	// ErrMissing: the database file is gone (or empty) but its marker
	// shows one existed: starting empty would forget every queued message
	// and accept old idempotency keys again.
	ErrMissing = errors.New("database missing")
)

// WithInitialize lets Open create an empty database where its marker shows
// one existed (the operator's decision after losing it).
func WithInitialize() Option { return func(c *config) { c.initialize = true } }

// marker is the file beside the database that says one was created here.
// It lives outside the database so that it survives the database file
// being deleted or a volume being mounted empty at its path.
type marker struct {
	DatabaseID string    `json:"database_id"`
	CreatedAt  time.Time `json:"created_at"`
	Note       string    `json:"note"`
}

const markerNote = "minipush writes this file beside its database. While it exists, the sender refuses to start " +
	"with the database missing (docs/operations.md#a-missing-database)."

// markerPath is the marker of the database at path.
func markerPath(path string) string { return path + ".marker" }

// checkMissing refuses to create a database where the marker shows one
// existed, unless told to initialise.
func checkMissing(path string, initialize bool) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	b, err := os.ReadFile(markerPath(path))
	if errors.Is(err, os.ErrNotExist) || initialize {
		return nil // a first start, or the operator's decision
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", markerPath(path), err)
	}
	var m marker
	_ = json.Unmarshal(b, &m) // a marker we cannot read still says a database was here
	return fmt.Errorf("%w: %s does not exist (or is empty), but %s shows that database %s was created there on %s: "+
		"refusing to start with an empty one. Restore the file from a backup, or start with storage.initialize: true "+
		"(MINIPUSH_STORAGE_INITIALIZE=true, or sender -init-storage) to begin empty, forgetting every queued message "+
		"and idempotency key (docs/operations.md#a-missing-database)",
		ErrMissing, path, markerPath(path), orUnknown(m.DatabaseID), orUnknownTime(m.CreatedAt))
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown id)"
	}
	return s
}

func orUnknownTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.UTC().Format(time.RFC3339)
}

// writeMarker gives the database an id (kept in its meta table) and
// writes the marker when it is missing or names another database.
func writeMarker(ctx context.Context, conn *sql.Conn, path string, now time.Time) error {
	var id string
	err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'database_id'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = "db_" + hex.EncodeToString(b[:])
		if _, err := conn.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('database_id', ?), ('created_at', ?)`,
			id, now.UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("record database id: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("read database id: %w", err)
	}
	mp := markerPath(path)
	if b, err := os.ReadFile(mp); err == nil {
		var m marker
		if json.Unmarshal(b, &m) == nil && m.DatabaseID == id {
			return nil
		}
	}
	var created string
	_ = conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'created_at'`).Scan(&created)
	m := marker{DatabaseID: id, Note: markerNote}
	m.CreatedAt, _ = time.Parse(time.RFC3339, created)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// Written aside and renamed: a crash leaves the old marker or the new
	// one, never half of one.
	tmp, err := os.CreateTemp(filepath.Dir(mp), filepath.Base(mp)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", mp, err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", mp, err)
	}
	if err := os.Rename(tmp.Name(), mp); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", mp, err)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check: the b-trees' structure and every
// page's format, without comparing indexes to tables (integrity_check,
// which does, costs several times more).
func quickCheck(ctx context.Context, conn *sql.Conn, path string) error {
	rows, err := conn.QueryContext(ctx, "PRAGMA quick_check(10)")
	if err != nil {
		return damagedIf(path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return damagedIf(path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return damagedIf(path, err)
	}
	if len(problems) > 0 {
		return damaged(path, "quick_check: "+strings.Join(problems, "; "))
	}
	return nil
}

// damagedIf turns an error that says the file is corrupt into ErrDamaged.
func damagedIf(path string, err error) error {
	var se *sqlitedrv.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return damaged(path, err.Error())
		}
	}
	return err
}

func damaged(path, detail string) error {
	return fmt.Errorf("%w: %s (%s): the sender will not serve from a damaged database. Stop it, move the file "+
		"(with its -wal and -shm) aside, and restore a backup or salvage what is readable "+
		"(docs/operations.md#a-damaged-database)", ErrDamaged, path, detail)
}
