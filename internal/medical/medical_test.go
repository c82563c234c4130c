package medical_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/medical"
	"github.com/casexchange/server/internal/ptr"
)

// These inputs fail before any database access, so the service runs without a pool.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	svc := medical.New(nil)
	caseID := uuid.New()
	for name, tc := range map[string]struct {
		in     medical.CreateInput
		fields []string
	}{
		"no case and no provider": {medical.CreateInput{}, []string{"body.caseId", "body.providerName"}},
		"case ids disagree": {medical.CreateInput{CaseID: &caseID, BaseCaseID: ptr.To(uuid.New()), ProviderName: ptr.To("X")},
			[]string{"body.baseCaseId"}},
		"blank provider": {medical.CreateInput{CaseID: &caseID, ProviderName: ptr.To("  ")}, []string{"body.providerName"}},
		"long provider":  {medical.CreateInput{CaseID: &caseID, ProviderName: ptr.To(strings.Repeat("p", 201))}, []string{"body.providerName"}},
		"bad status": {medical.CreateInput{CaseID: &caseID, ProviderName: ptr.To("X"), Status: ptr.To(medical.Status("lost"))},
			[]string{"body.status"}},
		"bad email": {medical.CreateInput{BaseCaseID: &caseID, ProviderName: ptr.To("X"), ClientEmail: ptr.To("nope")},
			[]string{"body.clientEmail"}},
		"long phone": {medical.CreateInput{CaseID: &caseID, ProviderName: ptr.To("X"), ClientPhone: ptr.To(strings.Repeat("1", 51))},
			[]string{"body.clientPhone"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := svc.Create(context.Background(), auth.Actor{FirmID: uuid.New()}, tc.in)
			require.ErrorIs(t, err, apperr.ErrValidation)
			ae, _ := apperr.As(err)
			var got []string
			for _, d := range ae.Details {
				got = append(got, d.Field)
			}
			require.Equal(t, tc.fields, got)
		})
	}
}

func TestUpdateValidation(t *testing.T) {
	t.Parallel()
	svc := medical.New(nil)
	for name, tc := range map[string]struct {
		in    medical.UpdateInput
		field string
	}{
		"clear provider name": {medical.UpdateInput{ProviderName: medical.Opt[string]{Set: true}}, "body.providerName"},
		"clear referral type": {medical.UpdateInput{ReferralType: medical.Opt[string]{Set: true}}, "body.referralType"},
		"clear status":        {medical.UpdateInput{Status: medical.Opt[medical.Status]{Set: true}}, "body.status"},
		"bad status":          {medical.UpdateInput{Status: medical.Opt[medical.Status]{Set: true, Value: ptr.To(medical.Status("won"))}}, "body.status"},
		"long notes":          {medical.UpdateInput{Notes: medical.Opt[string]{Set: true, Value: ptr.To(strings.Repeat("n", 5001))}}, "body.notes"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := svc.Update(context.Background(), auth.Actor{FirmID: uuid.New()}, uuid.New(), tc.in)
			require.ErrorIs(t, err, apperr.ErrValidation)
			ae, _ := apperr.As(err)
			require.Equal(t, tc.field, ae.Details[0].Field)
		})
	}
}

func TestStatusValid(t *testing.T) {
	t.Parallel()
	for _, s := range []medical.Status{medical.StatusPending, medical.StatusScheduled, medical.StatusCompleted, medical.StatusCancelled} {
		require.True(t, s.Valid(), s)
	}
	require.False(t, medical.Status("won").Valid())
}
