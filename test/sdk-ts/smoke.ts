// A TypeScript client generated from our contract (openapi-typescript + openapi-fetch) must
// type-check against this flow, and the flow runs against a live server when CX_BASE_URL is set:
// log in, create a Public API key, list sent cases.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

export async function smoke(baseUrl: string, email: string, password: string): Promise<number> {
  const internal = createClient<paths>({ baseUrl });
  const login = await internal.POST("/api/v1/auth/login", { body: { email, password } });
  if (!login.data) throw new Error(`login failed: ${login.response.status}`);
  const token: string = login.data.data.accessToken;

  const created = await internal.POST("/api/v1/public-api-keys", {
    body: { name: "typescript smoke", tier: "READ_ONLY" },
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!created.data) throw new Error(`key creation failed: ${created.response.status}`);
  const key: string = created.data.data.plainKey;

  const pub = createClient<paths>({ baseUrl, headers: { "X-API-Key": key } });
  const sent = await pub.GET("/api/public/v1/sent-cases", { params: { query: { page: 1, limit: 5 } } });
  if (!sent.data) throw new Error(`list failed: ${sent.response.status}`);
  for (const c of sent.data.data) {
    const ref: string | null = c.referenceNumber;
    void ref;
  }
  return sent.data.pagination.total;
}

const base = process.env.CX_BASE_URL;
if (base) {
  smoke(base, "admin@acme.test", "casexchange-demo").then(
    (n) => console.log(`sdk-ts: logged in, created a key, listed ${n} sent cases`),
    (e) => { console.error(e); process.exit(1); },
  );
}
