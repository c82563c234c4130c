package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/gen/api"
	"github.com/casexchange/server/internal/httpapi/apitest"
)

const medPath = "/api/public/v1/medical-referrals"

func createMedical(t *testing.T, h *apitest.Harness, key string, body map[string]any) *apitest.Response {
	t.Helper()
	return h.Do("POST", medPath, apitest.APIKey(key), apitest.JSON(body))
}

func createMedicalOK(t *testing.T, h *apitest.Harness, key string, body map[string]any) api.MedicalReferral {
	t.Helper()
	r := createMedical(t, h, key, body)
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	var out api.MedicalReferralResponse
	r.Decode(&out)
	return out.Data
}

func listMedical(t *testing.T, h *apitest.Harness, key string, query ...string) api.MedicalReferralListResponse {
	t.Helper()
	r := h.Do("GET", medPath, apitest.APIKey(key), apitest.Query(query...))
	require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
	var out api.MedicalReferralListResponse
	r.Decode(&out)
	return out
}

func TestMedicalReferrals(t *testing.T) {
	t.Parallel()

	t.Run("PostmanShapeWithBaseCaseIdAndProviderName", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		m := createMedicalOK(t, f.h, f.ownerStd, map[string]any{
			"baseCaseId": f.caseID, "clientFirstName": "Marcus", "clientLastName": "Delgado",
			"providerName": "Lakeshore Spine & Joint", "dateOfInjury": "2026-03-30",
			"injuryDescription": "Lower back strain after a rear-end collision", "notes": "Prefers mornings",
		})
		require.Equal(t, f.caseID, m.CaseId)
		require.Equal(t, f.caseID, m.BaseCaseId)
		require.Equal(t, "Lakeshore Spine & Joint", m.ProviderName)
		require.Nil(t, m.ProviderId)
		require.Equal(t, "general", m.ReferralType)
		require.Equal(t, api.MedicalReferralStatus("pending"), m.Status)
		require.Nil(t, m.AppointmentDate)
		require.Equal(t, "2026-03-30", m.DateOfInjury.String())
		require.Equal(t, "Marcus", *m.ClientFirstName)
		require.Equal(t, f.owner.ID, *m.FirmId)
	})

	t.Run("SpecShapeWithCaseIdProviderIdStatusAndAppointment", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		provider := f.h.NewFirm(apitest.FirmOpts{Name: "Northside Imaging Center"})
		m := createMedicalOK(t, f.h, f.ownerStd, map[string]any{
			"caseId": f.caseID, "baseCaseId": f.caseID, "providerId": provider.ID, "referralType": "imaging",
			"status": "scheduled", "appointmentDate": "2026-04-22", "clientEmail": "marcus@example.org",
		})
		require.Equal(t, provider.ID, *m.ProviderId)
		require.Equal(t, "Northside Imaging Center", m.ProviderName, "the name comes from the directory firm")
		require.Equal(t, "imaging", m.ReferralType)
		require.Equal(t, api.MedicalReferralStatus("scheduled"), m.Status)
		require.Equal(t, "2026-04-22", m.AppointmentDate.String())
		require.Equal(t, "marcus@example.org", string(*m.ClientEmail))
	})

	t.Run("InvalidBodiesNameTheField", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		other := newCase(t, f.h, f.outStd, nil, nil)
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"no case":               {map[string]any{"providerName": "Clinic"}, "body.caseId"},
			"ids disagree":          {map[string]any{"caseId": f.caseID, "baseCaseId": uuid.New(), "providerName": "Clinic"}, "body.baseCaseId"},
			"no provider":           {map[string]any{"caseId": f.caseID}, "body.providerName"},
			"unknown provider firm": {map[string]any{"caseId": f.caseID, "providerId": uuid.New()}, "body.providerId"},
			"case of another firm":  {map[string]any{"caseId": other, "providerName": "Clinic"}, "body.caseId"},
			"unknown case":          {map[string]any{"baseCaseId": uuid.New(), "providerName": "Clinic"}, "body.baseCaseId"},
			"blank provider name":   {map[string]any{"caseId": f.caseID, "providerName": "   "}, "body.providerName"},
			"bad status":            {map[string]any{"caseId": f.caseID, "providerName": "Clinic", "status": "lost"}, "body.status"},
		} {
			r := createMedical(t, f.h, f.ownerStd, tc.body)
			require.Equal(t, http.StatusBadRequest, r.StatusCode, "%s: %s", name, r.Body)
			require.Equal(t, "validation_error", r.ErrorCode(), name)
			require.Contains(t, errorFields(t, r), tc.field, name)
		}
		require.Zero(t, listMedical(t, f.h, f.ownerStd).Pagination.Total)
	})

	t.Run("ReceivingFirmMayUseTheCaseOnceAcknowledged", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		r := createMedical(t, f.h, f.recvStd, map[string]any{"caseId": f.caseID, "providerName": "Clinic"})
		require.Equal(t, http.StatusBadRequest, r.StatusCode, string(r.Body))
		receivedAction(t, f.h, f.recvStd, f.caseID, "acknowledge", nil)
		m := createMedicalOK(t, f.h, f.recvStd, map[string]any{"caseId": f.caseID, "providerName": "Clinic"})
		require.Equal(t, f.recv.ID, *m.FirmId)
		require.Zero(t, listMedical(t, f.h, f.ownerStd).Pagination.Total, "each firm sees only its own")
	})

	t.Run("GetListAndUpdateAreIsolatedByFirm", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		second := newCase(t, f.h, f.ownerStd, nil, nil)
		a := createMedicalOK(t, f.h, f.ownerStd, map[string]any{"caseId": f.caseID, "providerName": "Clinic A"})
		b := createMedicalOK(t, f.h, f.ownerStd, map[string]any{"caseId": second, "providerName": "Clinic B", "status": "scheduled"})
		c := createMedicalOK(t, f.h, f.ownerStd, map[string]any{"caseId": f.caseID, "providerName": "Clinic C"})

		all := listMedical(t, f.h, f.ownerRO)
		require.Equal(t, 3, all.Pagination.Total)
		require.Equal(t, []uuid.UUID{c.Id, b.Id, a.Id}, []uuid.UUID{all.Data[0].Id, all.Data[1].Id, all.Data[2].Id}, "newest first")
		page := listMedical(t, f.h, f.ownerRO, "limit", "2", "page", "2")
		require.Len(t, page.Data, 1)
		require.Equal(t, 2, page.Pagination.TotalPages)
		byCase := listMedical(t, f.h, f.ownerRO, "caseId", f.caseID.String())
		require.Equal(t, 2, byCase.Pagination.Total)
		byStatus := listMedical(t, f.h, f.ownerRO, "status", "scheduled")
		require.Equal(t, 1, byStatus.Pagination.Total)
		require.Equal(t, b.Id, byStatus.Data[0].Id)

		r := f.h.Do("GET", apitest.Path(medPath, a.Id.String()), apitest.APIKey(f.ownerRO))
		require.Equal(t, http.StatusOK, r.StatusCode)
		for _, key := range []string{f.outStd, f.recvStd} {
			r = f.h.Do("GET", apitest.Path(medPath, a.Id.String()), apitest.APIKey(key))
			require.Equal(t, http.StatusNotFound, r.StatusCode)
			r = f.h.Do("PUT", apitest.Path(medPath, a.Id.String()), apitest.APIKey(key), apitest.JSON(map[string]any{"status": "cancelled"}))
			require.Equal(t, http.StatusNotFound, r.StatusCode)
			require.Zero(t, listMedical(t, f.h, key).Pagination.Total)
		}
		r = f.h.Do("GET", apitest.Path(medPath, uuid.NewString()), apitest.APIKey(f.ownerRO))
		require.Equal(t, http.StatusNotFound, r.StatusCode)
	})

	t.Run("UpdateChangesOnlyTheFieldsPresent", func(t *testing.T) {
		t.Parallel()
		f := newParties(t)
		m := createMedicalOK(t, f.h, f.ownerStd, map[string]any{
			"caseId": f.caseID, "providerName": "Clinic", "notes": "first visit", "clientPhone": "312-555-0148",
		})
		path := apitest.Path(medPath, m.Id.String())

		r := f.h.Do("PUT", path, apitest.APIKey(f.ownerRO), apitest.JSON(map[string]any{"status": "completed"}))
		require.Equal(t, http.StatusForbidden, r.StatusCode)

		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{
			"status": "scheduled", "appointmentDate": "2026-05-02", "notes": "bring imaging",
		}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		var out api.MedicalReferralResponse
		r.Decode(&out)
		u := out.Data
		require.Equal(t, api.MedicalReferralStatus("scheduled"), u.Status)
		require.Equal(t, "2026-05-02", u.AppointmentDate.String())
		require.Equal(t, "bring imaging", *u.Notes)
		require.Equal(t, "312-555-0148", *u.ClientPhone, "absent fields keep their value")
		require.Equal(t, "Clinic", u.ProviderName)
		require.Equal(t, f.caseID, u.CaseId)
		require.True(t, !u.UpdatedAt.Before(m.UpdatedAt))

		provider := f.h.NewFirm(apitest.FirmOpts{Name: "Westside Chiropractic"})
		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{"providerId": provider.ID}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		r.Decode(&out)
		require.Equal(t, "Westside Chiropractic", out.Data.ProviderName)

		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{
			"notes": nil, "appointmentDate": nil, "providerId": nil, "referralType": "chiropractic",
		}))
		require.Equal(t, http.StatusOK, r.StatusCode, string(r.Body))
		out = api.MedicalReferralResponse{}
		r.Decode(&out)
		require.Nil(t, out.Data.Notes, "null clears")
		require.Nil(t, out.Data.AppointmentDate)
		require.Nil(t, out.Data.ProviderId)
		require.Equal(t, "Westside Chiropractic", out.Data.ProviderName, "the name stays when the directory link goes")
		require.Equal(t, "312-555-0148", *out.Data.ClientPhone, "absent still keeps")
		require.Equal(t, "chiropractic", out.Data.ReferralType)

		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{"providerName": nil}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode, "providerName is not nullable")

		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{"providerId": uuid.New()}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
		require.Equal(t, []string{"body.providerId"}, errorFields(t, r))
		r = f.h.Do("PUT", path, apitest.APIKey(f.ownerStd), apitest.JSON(map[string]any{"status": "lost"}))
		require.Equal(t, http.StatusBadRequest, r.StatusCode)
	})
}
