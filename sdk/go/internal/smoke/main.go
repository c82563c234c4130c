// Command smoke drives the Go SDK against a live server (scripts/sdk-smoke.sh starts one with
// the demo data): it signs in, mints a Public API key, then lists sent cases, creates a case,
// reads it back, finds it in the list and asks for a case that does not exist. It prints
// `go N calls ok` and exits 0, or names the first call that went wrong and exits 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	casexchange "github.com/casexchange/server/sdk/go"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func main() {
	baseURL := flag.String("base-url", "http://127.0.0.1:8080", "the server's base URL")
	email := flag.String("email", "admin@acme.test", "a firm admin's e-mail (demo data)")
	password := flag.String("password", "casexchange-demo", "that admin's password")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := run(ctx, *baseURL, *email, *password)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sdk-smoke (go): call %d: %v\n", n+1, err)
		os.Exit(1)
	}
	fmt.Printf("go %d calls ok\n", n)
}

// want checks one answer: its status and that the SDK decoded the body it expects.
func want(status, code int, decoded bool, body []byte) error {
	if status != code || !decoded {
		return fmt.Errorf("status %d (want %d): %s", status, code, body)
	}
	return nil
}

// run returns the number of calls that succeeded, and the first error.
func run(ctx context.Context, baseURL, email, password string) (calls int, err error) {
	internal, err := casexchange.NewClientWithResponses(baseURL)
	if err != nil {
		return calls, err
	}
	login, err := internal.LoginUserWithResponse(ctx, casexchange.LoginUserJSONRequestBody{Email: openapi_types.Email(email), Password: password})
	if err != nil {
		return calls, err
	}
	if err := want(login.StatusCode(), http.StatusOK, login.JSON200 != nil, login.Body); err != nil {
		return calls, fmt.Errorf("login: %w", err)
	}
	calls++

	admin, err := casexchange.NewClientWithResponses(baseURL, casexchange.WithBearerToken(login.JSON200.Data.AccessToken))
	if err != nil {
		return calls, err
	}
	created, err := admin.CreatePublicApiKeyWithResponse(ctx, casexchange.CreatePublicApiKeyJSONRequestBody{
		Name: "go sdk smoke", Tier: casexchange.PublicApiKeyTierSTANDARD,
	})
	if err != nil {
		return calls, err
	}
	if err := want(created.StatusCode(), http.StatusCreated, created.JSON201 != nil, created.Body); err != nil {
		return calls, fmt.Errorf("create key: %w", err)
	}
	calls++

	c, err := casexchange.NewClientWithResponses(baseURL, casexchange.WithAPIKey(created.JSON201.Data.PlainKey))
	if err != nil {
		return calls, err
	}
	before, err := c.ListSentCasesWithResponse(ctx, &casexchange.ListSentCasesParams{})
	if err != nil {
		return calls, err
	}
	if err := want(before.StatusCode(), http.StatusOK, before.JSON200 != nil, before.Body); err != nil {
		return calls, fmt.Errorf("list sent cases: %w", err)
	}
	calls++

	title := fmt.Sprintf("Go SDK smoke %d", time.Now().UnixNano())
	newCase, err := c.CreateSentCaseWithResponse(ctx, &casexchange.CreateSentCaseParams{}, casexchange.CreateSentCaseJSONRequestBody{
		Title: title, CaseType: "auto_accident", Jurisdiction: "CA", ClientFirstName: "Dana", ClientLastName: "Reyes",
	})
	if err != nil {
		return calls, err
	}
	if err := want(newCase.StatusCode(), http.StatusCreated, newCase.JSON201 != nil, newCase.Body); err != nil {
		return calls, fmt.Errorf("create sent case: %w", err)
	}
	calls++
	id := newCase.JSON201.Data.Id.String()

	got, err := c.GetSentCaseWithResponse(ctx, id, &casexchange.GetSentCaseParams{})
	if err != nil {
		return calls, err
	}
	if err := want(got.StatusCode(), http.StatusOK, got.JSON200 != nil, got.Body); err != nil {
		return calls, fmt.Errorf("get sent case: %w", err)
	}
	if got.JSON200.Data.Id.String() != id || got.JSON200.Data.Title == nil || *got.JSON200.Data.Title != title ||
		got.JSON200.Data.Status != casexchange.LifecycleStatusDraft {
		return calls, fmt.Errorf("get sent case: read back %s", got.Body)
	}
	calls++

	after, err := c.ListSentCasesWithResponse(ctx, &casexchange.ListSentCasesParams{Search: &title})
	if err != nil {
		return calls, err
	}
	if err := want(after.StatusCode(), http.StatusOK, after.JSON200 != nil, after.Body); err != nil {
		return calls, fmt.Errorf("search sent cases: %w", err)
	}
	if len(after.JSON200.Data) != 1 || after.JSON200.Data[0].Id.String() != id {
		return calls, fmt.Errorf("search sent cases: the new case is not the one match: %s", after.Body)
	}
	calls++

	// A case that does not exist: the SDK decodes the error envelope into JSON404.
	missing, err := c.GetSentCaseWithResponse(ctx, "00000000-0000-4000-8000-000000000000", nil)
	if err != nil {
		return calls, err
	}
	if err := want(missing.StatusCode(), http.StatusNotFound, missing.JSON404 != nil, missing.Body); err != nil {
		return calls, fmt.Errorf("get missing case: %w", err)
	}
	if missing.JSON404.Error.Code != "resource_not_found" {
		return calls, errors.New("get missing case: error code " + missing.JSON404.Error.Code)
	}
	calls++
	return calls, nil
}
