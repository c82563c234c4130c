// Package db embeds the SQL migrations so the binary can migrate any database it is pointed at.
package db

import "embed"

// Migrations holds db/migrations/*.sql: NNNN_name.up.sql and NNNN_name.down.sql pairs, applied in
// lexical order.
//
//go:embed migrations/*.sql
var Migrations embed.FS
