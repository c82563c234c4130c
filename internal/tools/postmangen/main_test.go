package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const specFile = "../../../api-reference/openapi.yml"

func loadSpec(t *testing.T) *Spec {
	t.Helper()
	spec, err := LoadSpec(specFile)
	require.NoError(t, err)
	return spec
}

// TestWalkCoversEveryOperation counts the contract's operations and those the collection sends:
// they are the same set.
func TestWalkCoversEveryOperation(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	walked := map[string]int{}
	requests := 0
	for _, f := range Walk() {
		for _, s := range f.Steps {
			_, ok := spec.Ops[s.Op]
			require.True(t, ok, "the walk sends %s, which the contract does not declare", s.Op)
			walked[s.Op]++
			requests++
		}
	}
	require.Empty(t, Missing(spec), "operations of the contract the walk does not send")
	require.Len(t, walked, len(spec.Order), "distinct operations walked")
	require.Greater(t, len(spec.Order), 150, "the contract's operation count looks wrong")
	t.Logf("%d operations of the contract, all walked, in %d requests", len(spec.Order), requests)
}

// TestCommittedCollectionIsCurrent regenerates the collection and the environment: they equal
// the committed files byte for byte (run make generate after changing the contract or the walk).
func TestCommittedCollectionIsCurrent(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	col, env, err := Build(spec)
	require.NoError(t, err)
	for name, v := range map[string]any{"collection.json": col, "environment.json": env} {
		want, err := Marshal(v)
		require.NoError(t, err)
		again, err := Marshal(v)
		require.NoError(t, err)
		require.Equal(t, want, again)
		got, err := os.ReadFile(filepath.Join("../../../postman", name))
		require.NoError(t, err)
		require.True(t, string(want) == string(got), "postman/%s is stale: run make generate", name)
	}
}

// TestEmbeddedSchemasAreJSONSchema checks what the test scripts embed: every reference points
// into the schema's own definitions and no OpenAPI-only keyword is left.
func TestEmbeddedSchemasAreJSONSchema(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	n := 0
	for _, id := range spec.Order {
		op := spec.Ops[id]
		for _, code := range op.SuccessCodes() {
			r, err := spec.Response(op, code)
			require.NoError(t, err)
			if r.Schema == nil {
				continue
			}
			n++
			defs, _ := r.Schema["definitions"].(map[string]any)
			var walk func(v any)
			walk = func(v any) {
				switch t2 := v.(type) {
				case map[string]any:
					for k, e := range t2 {
						require.NotContains(t, []string{"nullable", "discriminator", "example"}, k, "%s %s", id, code)
						if k == "$ref" {
							ref := e.(string)
							require.True(t, strings.HasPrefix(ref, "#/definitions/"), "%s %s: %s", id, code, ref)
							require.Contains(t, defs, strings.TrimPrefix(ref, "#/definitions/"))
						}
						if k == "format" {
							require.True(t, ajvFormats[e.(string)], "%s %s: format %v", id, code, e)
						}
						walk(e)
					}
				case []any:
					for _, e := range t2 {
						walk(e)
					}
				}
			}
			walk(r.Schema)
			_, err = json.Marshal(r.Schema)
			require.NoError(t, err)
		}
	}
	require.Greater(t, n, 100)
}

// TestNullableBecomesNullType pins the conversion of OpenAPI's nullable.
func TestNullableBecomesNullType(t *testing.T) {
	t.Parallel()
	c := &converter{spec: &Spec{doc: map[string]any{}}, defs: map[string]any{}}
	got, err := c.convert(map[string]any{"type": "string", "nullable": true, "enum": []any{"a"}, "format": "int64", "description": "x"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"type": []any{"string", "null"}, "enum": []any{"a", nil}}, got)
	got, err = c.convert(map[string]any{"allOf": []any{map[string]any{"type": "object"}}, "nullable": true})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"anyOf": []any{map[string]any{"allOf": []any{map[string]any{"type": "object"}}}, map[string]any{"type": "null"}}}, got)
}
