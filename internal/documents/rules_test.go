package documents

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
)

func TestStanding(t *testing.T) {
	t.Parallel()
	owner, receiver := uuid.New(), uuid.New()
	for _, tt := range []struct {
		name           string
		firm           uuid.UUID
		working, party bool
		want           error // nil: access
		isOwner        bool
	}{
		{name: "the owner sees its case's documents", firm: owner, isOwner: true},
		{name: "the owner needs no referral", firm: owner, working: false, party: false, isOwner: true},
		{name: "a receiving firm working an acknowledged referral sees them", firm: receiver, working: true, party: true},
		{name: "a receiving firm before acknowledging is refused", firm: receiver, party: true, want: apperr.ErrPermission},
		{name: "a firm that was never sent the case learns nothing", firm: receiver, want: apperr.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			acc, err := standing(tt.firm, owner, tt.working, tt.party)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.isOwner, acc.isOwner)
			require.Equal(t, owner, acc.ownerFirmID)
		})
	}
}
