package postgres

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// uuidCodec is pgx's uuid codec taught the project's UUID type (github.com/google/uuid). Without
// it pgx reaches a uuid.UUID through database/sql's interfaces: every parameter is turned into
// its 36-character text and planned again, and every scanned value parsed back from text. For
// a page's uuid[] of ids that was most of the cost of building the query (a CPU profile of the
// case list at concurrency 64: 9% of the server's time in encoding the ids alone). Here a
// uuid.UUID is sent and read as the 16 bytes of the binary format.
type uuidCodec struct{ pgtype.UUIDCodec }

type uuidValue uuid.UUID

func (v uuidValue) UUIDValue() (pgtype.UUID, error) { return pgtype.UUID{Bytes: v, Valid: true}, nil }

type uuidTarget uuid.UUID

func (t *uuidTarget) ScanUUID(v pgtype.UUID) error {
	if !v.Valid {
		return fmt.Errorf("cannot scan NULL into a uuid.UUID")
	}
	*t = uuidTarget(v.Bytes)
	return nil
}

// wrapEncode and wrapScan pass the value, as the type the codec knows, to its own plan.
type wrapEncode struct{ next pgtype.EncodePlan }

func (p *wrapEncode) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(uuidValue(value.(uuid.UUID)), buf)
}

type wrapScan struct{ next pgtype.ScanPlan }

func (p *wrapScan) Scan(src []byte, target any) error {
	return p.next.Scan(src, (*uuidTarget)(target.(*uuid.UUID)))
}

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(uuid.UUID); ok {
		if next := c.UUIDCodec.PlanEncode(m, oid, format, uuidValue{}); next != nil {
			return &wrapEncode{next: next}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok {
		if next := c.UUIDCodec.PlanScan(m, oid, format, new(uuidTarget)); next != nil {
			return &wrapScan{next: next}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

// RegisterUUID installs the codec in a connection's type map. Call it from every connection's
// AfterConnect (OpenConfig does for the pool).
func RegisterUUID(conn *pgx.Conn) {
	m := conn.TypeMap()
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
	// uuid[] must be re-registered so that its element codec is the one above.
	t, _ := m.TypeForOID(pgtype.UUIDOID)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}
