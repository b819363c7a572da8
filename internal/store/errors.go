package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/roundtable-lms/roundtable"
)

var (
	// ErrNotFound is returned when a row that must exist does not.
	ErrNotFound = &roundtable.Error{Code: roundtable.ENOTFOUND, Message: "Not found."}
	// ErrConflict is returned when a write breaks a uniqueness rule.
	ErrConflict = &roundtable.Error{Code: roundtable.ECONFLICT, Message: "That already exists."}
)

// Translate maps driver errors to ErrNotFound and ErrConflict so callers
// see the same error on SQLite and Postgres. Other errors pass unchanged.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errors.Join(ErrNotFound, err)
	}
	if IsUniqueViolation(err) {
		return errors.Join(ErrConflict, err)
	}
	return err
}

// IsUniqueViolation reports a unique or primary key violation on either database.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "PRIMARY KEY constraint failed")
}

// IsBusy reports SQLite's "database is locked" family of errors.
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}
