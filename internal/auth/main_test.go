package auth_test

import (
	"testing"

	"github.com/casexchange/server/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
