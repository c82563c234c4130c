package portal_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/httpapi/apitest"
	"github.com/casexchange/server/internal/testsummary"
	"github.com/casexchange/server/internal/webhooks"
	"github.com/casexchange/server/internal/webhooks/webhookstest"
	"github.com/casexchange/server/pkg/webhookverify"
)

const webhookGuide = "guides/10-webhooks.md"

// TestWebhookGuideShowsTheSnippets keeps the verification snippets of the webhook guide equal to
// the files the snippet test runs, and the guide's catalogue complete.
func TestWebhookGuideShowsTheSnippets(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(webhookGuide)
	require.NoError(t, err)
	for file, lang := range map[string]string{"verify.go": "go", "verify.js": "js", "verify.py": "python"} {
		src, err := os.ReadFile(filepath.Join("guides", "snippets", file))
		require.NoError(t, err)
		require.Contains(t, string(page), "```"+lang+"\n"+string(src)+"```\n", "%s is shown verbatim in %s", file, webhookGuide)
	}
	for _, e := range slices.Concat(webhooks.EventTypes, []webhooks.EventType{webhooks.EventWebhookTest}) {
		require.Contains(t, string(page), "| `"+string(e)+"` |", "the catalogue has a row for %s", e)
	}
}

// TestWebhookVerificationSnippets makes the server deliver a real signed webhook to a test
// receiver, then runs the guide's Go, Node.js and Python snippets on what was received: each
// accepts the delivery as it came, and rejects it with a changed body, a wrong secret or an old
// signature.
func TestWebhookVerificationSnippets(t *testing.T) {
	t.Parallel()
	h := apitest.New(t)
	recv := webhookstest.NewReceiver(t)
	webhookstest.Trust(h.App.Server.Webhooks, recv, nil)
	require.NoError(t, h.App.Jobs.Start(context.WithoutCancel(t.Context())))
	firm := h.NewFirm(apitest.FirmOpts{Name: "Snippet Law"})
	key := h.Key(firm, apitest.Standard)

	r := h.Do("POST", "/api/public/v1/webhooks", apitest.APIKey(key), apitest.JSON(map[string]any{
		"url": recv.URL(), "events": []string{"case.created"},
	}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	secret := r.Map()["data"].(map[string]any)["secret"].(string)
	r = h.Do("POST", "/api/public/v1/sent-cases", apitest.APIKey(key), apitest.JSON(map[string]any{
		"title": "Slip and fall at a grocery store", "caseType": "Personal Injury", "jurisdiction": "WA",
		"clientFirstName": "Rosa", "clientLastName": "Lindqvist",
	}))
	require.Equal(t, http.StatusCreated, r.StatusCode, string(r.Body))
	delivery := recv.Wait(t, 1, 30*time.Second)[0]
	body, sig := delivery.Body, delivery.Header.Get(webhookverify.SignatureHeader)
	require.Equal(t, "case.created", delivery.Header.Get(webhookverify.EventHeader))
	require.NoError(t, webhookverify.Verify(secret, sig, body, webhookverify.DefaultTolerance), "the delivery is genuine")

	tampered := bytes.Replace(body, []byte("Lindqvist"), []byte("Lindqvisz"), 1)
	require.NotEqual(t, body, tampered)
	old := webhookverify.Sign(secret, time.Now().Add(-10*time.Minute), body)

	dir := filepath.Join("guides", "snippets")
	bin := filepath.Join(t.TempDir(), "verify")
	build := exec.Command("go", "build", "-o", bin, "./guides/snippets")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build the Go snippet: %s", out)

	runners := []struct {
		lang, tool string
		cmd        func(header string) *exec.Cmd
	}{
		{"Go", "go", func(hd string) *exec.Cmd { return exec.Command(bin, hd) }},
		{"Node.js", "node", func(hd string) *exec.Cmd { return exec.Command("node", filepath.Join(dir, "verify.js"), hd) }},
		{"Python", "python3", func(hd string) *exec.Cmd { return exec.Command("python3", filepath.Join(dir, "verify.py"), hd) }},
	}
	ran := 0
	for _, rn := range runners {
		t.Run(rn.lang, func(t *testing.T) {
			if _, err := exec.LookPath(rn.tool); err != nil {
				t.Skipf("%s is not installed: the %s snippet is not run", rn.tool, rn.lang)
			}
			run := func(secret, header string, body []byte) (string, error) {
				c := rn.cmd(header)
				c.Env = append(os.Environ(), "CX_WEBHOOK_SECRET="+secret)
				c.Stdin = bytes.NewReader(body)
				out, err := c.CombinedOutput()
				return strings.TrimSpace(string(out)), err
			}
			out, err := run(secret, sig, body)
			require.NoError(t, err, out)
			require.Equal(t, "verified", out)
			for name, c := range map[string]struct {
				secret, header string
				body           []byte
				want           string
			}{
				"a changed body":   {secret, sig, tampered, "rejected: signature does not match"},
				"a wrong secret":   {"whsec_" + strings.Repeat("0", 64), sig, body, "rejected: signature does not match"},
				"an old signature": {secret, old, body, "rejected: timestamp outside the tolerance"},
				"no signature":     {secret, "", body, "rejected: malformed signature header"},
			} {
				out, err := run(c.secret, c.header, c.body)
				require.Error(t, err, "%s is rejected", name)
				require.Equal(t, c.want, out, name)
			}
			ran++
		})
	}
	testsummary.Printf("webhook-snippets: %d of %d verification snippets (Go, Node.js, Python) accepted a real delivery and rejected 4 forgeries each", ran, len(runners))
}
