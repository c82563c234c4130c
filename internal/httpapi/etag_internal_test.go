package httpapi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodedETag is the straightforward form of bodyETag (decode the top level with
// encoding/json): the fast splitter must give the same tag for every body our encoder writes.
func decodedETag(body []byte) string {
	h := sha256.New()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		h.Write(body)
	} else {
		names := make([]string, 0, len(top))
		for k := range top {
			if k != "meta" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		var n [8]byte
		for _, k := range names {
			for _, part := range [][]byte{[]byte(k), top[k]} {
				binary.BigEndian.PutUint64(n[:], uint64(len(part)))
				h.Write(n[:])
				h.Write(part)
			}
		}
	}
	sum := h.Sum(nil)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func TestBodyETagMatchesDecoding(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"data":[{"a":"x\"}]{","b":[1,2,{"c":null}]}],"meta":{"requestId":"r1"},"pagination":{"page":1}}` + "\n",
		`{"meta":{"requestId":"r2"},"data":{"s":"\\\\"},"pagination":null}`,
		`{"data":true,"meta":{}}`,
		`{"data":-1.5e3}`,
		`{}`,
		` { "data" : [ ] , "meta" : { } } `,
		`[1,2,3]`,
		`"text"`,
		`not json`,
		``,
	}
	for _, b := range bodies {
		require.Equal(t, decodedETag([]byte(b)), bodyETag([]byte(b)), "%q", b)
	}
	t.Run("the meta member does not count", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, bodyETag([]byte(`{"data":[1],"meta":{"requestId":"a"}}`)), bodyETag([]byte(`{"data":[1],"meta":{"requestId":"b"}}`)))
		require.NotEqual(t, bodyETag([]byte(`{"data":[1],"meta":{}}`)), bodyETag([]byte(`{"data":[2],"meta":{}}`)))
	})
	t.Run("random encoder output", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(7, 11))
		var value func(depth int) any
		value = func(depth int) any {
			switch k := r.IntN(7); {
			case k == 0 || depth > 3:
				return string([]rune{rune(r.IntN(0x2FF)), '"', '\\', '}', ']', rune(r.IntN(128))})
			case k == 1:
				return r.Float64() * 1e6
			case k == 2:
				return nil
			case k == 3:
				return r.IntN(2) == 0
			case k == 4:
				out := make([]any, r.IntN(4))
				for i := range out {
					out[i] = value(depth + 1)
				}
				return out
			default:
				out := map[string]any{}
				for i := 0; i < r.IntN(4); i++ {
					out[string(rune('a'+r.IntN(26)))] = value(depth + 1)
				}
				return out
			}
		}
		for i := 0; i < 2000; i++ {
			body := map[string]any{"data": value(0), "meta": map[string]any{"requestId": i}}
			if r.IntN(2) == 0 {
				body["pagination"] = value(2)
			}
			b, err := json.Marshal(body)
			require.NoError(t, err)
			require.Equal(t, decodedETag(b), bodyETag(b), "%s", b)
		}
	})
}
