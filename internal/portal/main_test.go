package portal_test

import (
	"testing"

	"github.com/casexchange/server/internal/httpapi/apitest"
)

func TestMain(m *testing.M) { apitest.Main(m) }
