package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/casexchange/server/internal/tools/examplegen/examples"
)

func TestRedactReplacesSecretsAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"password":     demoPassword,
		"newPassword":  "postman-changed-passphrase-2026",
		"key":          "cxp_full_SGEQybu127JRpNoIyo75dAbCdEfGh",
		"keyPrefix":    "cxp_full_SGE",
		"plainToken":   "cxsf_FYfMsNC1eU3wUSEWIoOQjTf7nQ",
		"refreshToken": "8Sj2jRqPHipwpYWwz2nWg82zmfk_Hu",
		"accessToken":  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.7KfTtPZ5lXRRor_irn4m3vasmBZPVMJnz",
		"secret":       "whsec_036f2db7581df9d989814092036f2db7581df9d989814092",
		"signature":    "t=1796691679,v1=b691243d2927bb0123456789abcdef0123456789abcdef0123456789abcdef",
		"url":          "http://127.0.0.1:46863/api/v1/webhooks/echo/echo_b521cd1045b9ba1643f1b33bf0?x=1",
		"link":         "http://127.0.0.1:46863/accept-invitation?token=JZWqgmFBb_Oo04BlsjZtyUB1YJmZhQ",
		"items":        []any{map[string]any{"key": "CA", "token": "3q2-7wX0Y1Z2a3b4c5d6e7f8g9h0i1"}},
		"id":           "02631433-fd35-4f02-9400-3eec447725c8",
		"count":        3.0,
	}
	require.False(t, redacted(in))
	out := redact(in, "", "http://127.0.0.1:46863").(map[string]any)
	require.True(t, redacted(out), "redact is idempotent")

	require.Equal(t, demoPassword, out["password"], "the published demo password is kept")
	require.Equal(t, passwordPlaceholder, out["newPassword"])
	require.Equal(t, "cxp_full_"+strings.Repeat("x", 29), out["key"])
	require.Equal(t, "cxp_full_SGE", out["keyPrefix"], "a key's published prefix is not a secret")
	require.Equal(t, "cxsf_"+strings.Repeat("x", 26), out["plainToken"])
	require.Equal(t, strings.Repeat("x", 30), out["refreshToken"])
	require.Equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."+strings.Repeat("x", 15)+"."+strings.Repeat("x", 33), out["accessToken"])
	require.Equal(t, "whsec_"+strings.Repeat("0", 48), out["secret"], "a hexadecimal secret keeps its pattern")
	require.Equal(t, "t=1796691679,v1="+strings.Repeat("0", 62), out["signature"])
	require.Equal(t, publicBaseURL+"/api/v1/webhooks/echo/echo_"+strings.Repeat("0", 26)+"?x=1", out["url"])
	require.Equal(t, publicBaseURL+"/accept-invitation?token="+strings.Repeat("x", 30), out["link"])
	item := out["items"].([]any)[0].(map[string]any)
	require.Equal(t, "CA", item["key"], "a key that is no secret stays")
	require.Equal(t, strings.Repeat("x", 30), item["token"])
	require.Equal(t, in["id"], out["id"], "ids stay as recorded")
	require.Equal(t, 3.0, out["count"])
}

func TestPublicPath(t *testing.T) {
	t.Parallel()
	base := "http://127.0.0.1:46863"
	require.Equal(t, "/api/v1/webhooks/echo/echo_"+strings.Repeat("0", 20),
		publicPath(base+"/api/v1/webhooks/echo/echo_b521cd1045b9ba1643f1", base, "/api/v1/webhooks/echo/{token}"))
	require.Equal(t, "/api/public/v1/documents/download/"+strings.Repeat("x", 12),
		publicPath(base+"/api/public/v1/documents/download/abcDEF-12_34", base, "/api/public/v1/documents/download/{token}"))
	require.Equal(t, "/api/public/v1/cases/0a1f122c-33ca-41af-b0b4-355585fa5217?page=2",
		publicPath(base+"/api/public/v1/cases/0a1f122c-33ca-41af-b0b4-355585fa5217?page=2", base, "/api/public/v1/cases/{id}"))
}

const testSpec = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewThing'}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
        "400": {description: bad}
  /things/{id}:
    delete:
      operationId: deleteThing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "204": {description: gone}
  /things/{id}/file:
    put:
      operationId: uploadThingFile
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          multipart/form-data:
            schema: {type: object, properties: {file: {type: string, format: binary}}}
      responses:
        "200":
          description: the file
          content:
            application/pdf:
              schema: {type: string, format: binary}
  /export:
    get:
      operationId: exportThings
      responses:
        "200":
          description: csv
          content:
            text/csv:
              schema: {type: string}
components:
  schemas:
    NewThing:
      type: object
      required: [name, password]
      properties:
        name: {type: string, minLength: 1}
        password: {type: string, minLength: 12}
    Thing:
      type: object
      required: [id, name, tags]
      properties:
        id: {type: string, format: uuid}
        name: {type: string}
        tags: {type: array, items: {type: string}}
        apiKey: {type: string}
`

func testOps(t *testing.T) map[string]specOp {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(testSpec))
	require.NoError(t, err)
	return specOps(doc)
}

func ptr(s string) *string { return &s }

func TestBuildTakesTheFirstSuccessAndSaysWhatIsSkipped(t *testing.T) {
	t.Parallel()
	base := "http://127.0.0.1:5555"
	rec := recording{BaseURL: base, Exchanges: []exchange{
		{OperationID: "createThing", Method: "POST", URL: base + "/things", RequestBodyMode: "raw", RequestContentType: "application/json",
			RequestBody: ptr(`{"name":""}`), Status: 400, ResponseContentType: "application/json", ResponseBody: ptr(`{"error":{}}`)},
		{OperationID: "createThing", Method: "POST", URL: base + "/things", RequestBodyMode: "raw", RequestContentType: "application/json",
			RequestBody: ptr(`{"name":"first","password":"a-longer-passphrase"}`), Status: 201, ResponseContentType: "application/json; charset=utf-8",
			ResponseBody: ptr(`{"id":"02631433-fd35-4f02-9400-3eec447725c8","name":"first","tags":["a","b","c","d","e"],"apiKey":"cxp_std_k3Qm9ZabcdefghijklmnopQRST"}`)},
		{OperationID: "createThing", Method: "POST", URL: base + "/things", RequestBodyMode: "raw", RequestContentType: "application/json",
			RequestBody: ptr(`{"name":"second","password":"a-longer-passphrase"}`), Status: 201, ResponseContentType: "application/json", ResponseBody: ptr(`{}`)},
		{OperationID: "deleteThing", Method: "DELETE", URL: base + "/things/1", Status: 204},
		{OperationID: "uploadThingFile", Method: "PUT", URL: base + "/things/1/file", RequestBodyMode: "formdata", Status: 200,
			ResponseContentType: "application/pdf", ResponseBody: ptr("%PDF-1.4")},
		{OperationID: "exportThings", Method: "GET", URL: base + "/export", Status: 200, ResponseContentType: "text/csv", ResponseBody: ptr("id,name\n1,first\n")},
		{OperationID: "gone", Method: "GET", URL: base + "/gone", Status: 200},
	}}
	f, notes := build(testOps(t), rec)
	require.Len(t, notes, 1, "the exchange of an operation the contract lacks is reported")

	c := f.Operations["createThing"]
	require.Equal(t, "/things", c.Path)
	require.Equal(t, "application/json", c.Request.ContentType)
	require.Equal(t, map[string]any{"name": "first", "password": passwordPlaceholder}, c.Request.Value)
	resp := c.Responses["201"]
	require.Equal(t, "application/json", resp.ContentType, "the contract's media type, without parameters")
	body := resp.Value.(map[string]any)
	require.Equal(t, "first", body["name"], "the first successful exchange is taken")
	require.Equal(t, []any{"a", "b", "c"}, body["tags"], "lists are cut")
	require.Equal(t, "cxp_std_"+strings.Repeat("x", 26), body["apiKey"])
	require.Empty(t, c.Skipped)

	require.Equal(t, []string{"response 204: no body"}, f.Operations["deleteThing"].Skipped)
	u := f.Operations["uploadThingFile"]
	require.Nil(t, u.Request)
	require.Empty(t, u.Responses)
	require.Len(t, u.Skipped, 2)
	require.Contains(t, u.Skipped[0], "multipart/form-data")
	require.Contains(t, u.Skipped[1], "application/pdf (binary)")
	require.Equal(t, "id,name\n1,first\n", f.Operations["exportThings"].Responses["200"].Value)

	// What build writes passes the check, once decoded as the check reads it.
	r := check(testOps(t), roundTrip(t, f))
	require.Empty(t, r.problems)
	require.Equal(t, 1, r.req)
	require.Equal(t, 2, r.resp)
	require.Equal(t, 2, r.withBody)
	require.Equal(t, 3, r.withSuccessBody)
	require.Contains(t, r.summary(), "examples: request examples for 1 of 2 operations with a body, response examples for 2 of 3 operations with a success body")
}

func roundTrip(t *testing.T, f examples.File) examples.File {
	b, err := examples.Encode(f)
	require.NoError(t, err)
	var out examples.File
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestCheckFindsInvalidExamplesAndSecrets(t *testing.T) {
	t.Parallel()
	f := examples.File{Operations: map[string]examples.Operation{
		"createThing": {
			Request: &examples.Body{ContentType: "application/json", Value: map[string]any{"name": "x", "password": "short"}},
			Responses: map[string]examples.Body{"201": {ContentType: "application/json",
				Value: map[string]any{"id": "not-a-uuid", "name": "x", "tags": []any{}, "apiKey": "cxp_full_SGEQybu127JRpNoIyo75dAbCd"}}},
		},
		"exportThings": {Responses: map[string]examples.Body{"201": {ContentType: "text/csv", Value: "a"}}},
		"renamedThing": {},
	}}
	r := check(testOps(t), f)
	joined := strings.Join(r.problems, "\n")
	require.Contains(t, joined, "createThing request: ", "a password shorter than the schema allows")
	require.Contains(t, joined, "createThing response 201: holds a secret")
	require.Contains(t, joined, "createThing response 201: Error at \"/id\"")
	require.Contains(t, joined, "exportThings response 201: the contract has no media type text/csv here")
	require.Contains(t, joined, "renamedThing: no such operation in the contract")
	require.Contains(t, r.summary(), "failed")
}
