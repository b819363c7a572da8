package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roundtable-lms/roundtable/internal/store"
)

// Table is rows for one table of a fixture at scale, loaded by Load.
type Table struct {
	Name string
	Cols []string
	Rows [][]any
}

// Add appends a row, its values in the order of Cols.
func (t *Table) Add(vals ...any) { t.Rows = append(t.Rows, vals) }

// Load writes the tables in one transaction: COPY on Postgres, multi-row
// INSERTs on SQLite (the tables' triggers fire for each row on both).
func Load(ctx context.Context, db *store.DB, tables []*Table) error {
	if db.Dialect == store.Postgres {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, t := range tables {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.Cols, pgx.CopyFromRows(t.Rows)); err != nil {
				return fmt.Errorf("copy %s: %w", t.Name, err)
			}
		}
		return tx.Commit(ctx)
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		if err := insertBatches(ctx, tx, t); err != nil {
			return fmt.Errorf("insert %s: %w", t.Name, err)
		}
	}
	return tx.Commit()
}

func insertBatches(ctx context.Context, tx *sql.Tx, t *Table) error {
	const perBatch = 200
	row := "(?" + strings.Repeat(", ?", len(t.Cols)-1) + ")"
	head := "INSERT INTO " + t.Name + " (" + strings.Join(t.Cols, ", ") + ") VALUES "
	var full *sql.Stmt
	for i := 0; i < len(t.Rows); i += perBatch {
		batch := t.Rows[i:min(i+perBatch, len(t.Rows))]
		args := make([]any, 0, len(batch)*len(t.Cols))
		for _, r := range batch {
			args = append(args, r...)
		}
		if len(batch) < perBatch {
			if _, err := tx.ExecContext(ctx, head+strings.Repeat(row+", ", len(batch)-1)+row, args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, head+strings.Repeat(row+", ", perBatch-1)+row); err != nil {
				return err
			}
			defer full.Close()
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// IDs makes time-ordered ids shaped like store.NewID's UUIDv7s, so that
// a fixture's ids sort by creation time as the store's do.
type IDs struct{ seq uint64 }

// At is a new id made at t.
func (g *IDs) At(t time.Time) string {
	g.seq++
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-7%03x-8%03x-%012x", ms>>16, ms&0xffff, (g.seq>>12)&0xfff, g.seq&0xfff, g.seq)
}
