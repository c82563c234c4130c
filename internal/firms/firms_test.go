package firms_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/postgres/pgtest"
	"github.com/casexchange/server/internal/ptr"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type testBundle struct {
	svc *firms.Service
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, _ := pgtest.NewDB(t)
	return &testBundle{svc: firms.New(pool)}
}

// createOpts describes a firm made by bundle.create.
type createOpts struct {
	Name     string
	Public   bool
	Inactive bool
}

func (b *testBundle) create(t *testing.T, o createOpts) firms.Firm {
	t.Helper()
	if o.Name == "" {
		o.Name = "Firm " + uuid.NewString()[:8]
	}
	f, err := b.svc.Create(context.Background(), firms.CreateInput{Name: o.Name, IsPublic: o.Public, Inactive: o.Inactive})
	require.NoError(t, err)
	return f
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ListsActivePublicFirmsByName", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create(t, createOpts{Name: "beta Law", Public: true})
		b.create(t, createOpts{Name: "Alpha Legal", Public: true})
		b.create(t, createOpts{Name: "Hidden LLP"})
		b.create(t, createOpts{Name: "Closed LLP", Public: true, Inactive: true})
		page, err := b.svc.Directory(ctx, firms.DirectoryQuery{})
		require.NoError(t, err)
		require.Equal(t, 2, page.Total)
		require.Equal(t, "Alpha Legal", page.Firms[0].Name)
		require.Equal(t, "beta Law", page.Firms[1].Name)
		require.Equal(t, firms.DefaultLimit, page.Limit)
		require.NotNil(t, page.Firms[0].Jurisdictions)
	})

	t.Run("SearchIsCaseInsensitiveAndLiteral", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.create(t, createOpts{Name: "Smith & Jones", Public: true})
		b.create(t, createOpts{Name: "100% Injury Law", Public: true})
		b.create(t, createOpts{Name: "1000 Injury Law", Public: true})
		b.create(t, createOpts{Name: "Under_score LLP", Public: true})
		b.create(t, createOpts{Name: "Underscore LLP", Public: true})
		for search, want := range map[string][]string{
			"JONES":  {"Smith & Jones"},
			"100%":   {"100% Injury Law"},
			"r_s":    {"Under_score LLP"},
			"injury": {"100% Injury Law", "1000 Injury Law"},
			"  ":     {"100% Injury Law", "1000 Injury Law", "Smith & Jones", "Under_score LLP", "Underscore LLP"},
			`\`:      {},
		} {
			page, err := b.svc.Directory(ctx, firms.DirectoryQuery{Search: search})
			require.NoError(t, err)
			names := []string{}
			for _, f := range page.Firms {
				names = append(names, f.Name)
			}
			require.ElementsMatch(t, want, names, "search %q", search)
			require.Equal(t, len(want), page.Total)
		}
	})

	t.Run("Pages", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 5 {
			b.create(t, createOpts{Name: fmt.Sprintf("Firm %d", i), Public: true})
		}
		page, err := b.svc.Directory(ctx, firms.DirectoryQuery{Page: 2, Limit: 2})
		require.NoError(t, err)
		require.Equal(t, 5, page.Total)
		require.Equal(t, 3, page.TotalPages())
		require.Equal(t, []string{"Firm 2", "Firm 3"}, []string{page.Firms[0].Name, page.Firms[1].Name})
		page, err = b.svc.Directory(ctx, firms.DirectoryQuery{Page: 4, Limit: 2})
		require.NoError(t, err)
		require.Empty(t, page.Firms)

		_, err = b.svc.Directory(ctx, firms.DirectoryQuery{Limit: 101})
		require.ErrorIs(t, err, apperr.ErrValidation)
		_, err = b.svc.Directory(ctx, firms.DirectoryQuery{Page: -1})
		require.ErrorIs(t, err, apperr.ErrValidation)
	})
}

func TestGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.create(t, createOpts{Name: "Get Me"})
	got, err := b.svc.Get(context.Background(), f.ID)
	require.NoError(t, err)
	require.Equal(t, "Get Me", got.Name)
	require.True(t, got.IsActive)
	require.True(t, got.CanSendReferrals)
	_, err = b.svc.Get(context.Background(), uuid.New())
	require.ErrorIs(t, err, apperr.ErrNotFound)
}

func TestUpdateOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PartialUpdateKeepsOtherFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := b.create(t, createOpts{Name: "Acme"})
		got, err := b.svc.UpdateOwn(ctx, f.ID, firms.Update{
			Phone: ptr.To("555-123-4567"), Address: ptr.To("123 Main Street"), City: ptr.To("New York"),
			State: ptr.To("NY"), Zip: ptr.To("10001"), Website: ptr.To("https://acmelaw.example.com"),
			Jurisdictions: &[]string{"ny", "NJ", "NY"},
		})
		require.NoError(t, err)
		require.Equal(t, "Acme", got.Name)
		require.Equal(t, "555-123-4567", *got.Phone)
		require.Equal(t, "10001", *got.Zip)
		require.Equal(t, []string{"NY", "NJ"}, got.Jurisdictions)
		require.False(t, got.UpdatedAt.Before(f.UpdatedAt))

		got, err = b.svc.UpdateOwn(ctx, f.ID, firms.Update{Name: ptr.To(" Acme Law Group "), Phone: ptr.To("")})
		require.NoError(t, err)
		require.Equal(t, "Acme Law Group", got.Name)
		require.Nil(t, got.Phone, "blank clears")
		require.Equal(t, "New York", *got.City, "untouched")
	})

	t.Run("RejectsBadFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := b.create(t, createOpts{})
		_, err := b.svc.UpdateOwn(ctx, f.ID, firms.Update{
			Name: ptr.To(" "), Website: ptr.To("ftp://example.com"), Email: ptr.To("nope"), Jurisdictions: &[]string{"C A"},
		})
		require.ErrorIs(t, err, apperr.ErrValidation)
		e, _ := apperr.As(err)
		fields := []string{}
		for _, d := range e.Details {
			fields = append(fields, d.Field)
		}
		require.ElementsMatch(t, []string{"name", "website", "email", "jurisdictions"}, fields)
	})

	t.Run("MissingFirmIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.svc.UpdateOwn(ctx, uuid.New(), firms.Update{Name: ptr.To("x")})
		require.ErrorIs(t, err, apperr.ErrNotFound)
	})
}

func TestLikePattern(t *testing.T) {
	t.Parallel()
	require.Equal(t, "", firms.LikePattern("  "))
	require.Equal(t, `%a\%b\_c\\d%`, firms.LikePattern(` a%b_c\d `))
}
