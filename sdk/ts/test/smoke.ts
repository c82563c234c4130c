// The TypeScript SDK against a live server (scripts/sdk-smoke.sh starts one with the demo data
// and sets CX_BASE_URL): sign in, mint a Public API key, list sent cases, create a case, read it
// back, find it in the list, ask for a case that does not exist. `tsc -p sdk/ts/test` type-checks
// this flow against the generated types; run, it prints `ts N calls ok` or fails on the first
// call that went wrong.
import { createClient } from "../src/index.js";

function check(step: string, status: number, want: number, ok: boolean, error?: unknown): void {
  if (status !== want || !ok) {
    throw new Error(`${step}: status ${status} (want ${want}) ${JSON.stringify(error)}`);
  }
}

export async function smoke(baseUrl: string, email: string, password: string): Promise<number> {
  let calls = 0;
  const internal = createClient({ baseUrl });
  const login = await internal.POST("/api/v1/auth/login", { body: { email, password } });
  check("login", login.response.status, 200, login.data !== undefined, login.error);
  calls++;

  const admin = createClient({ baseUrl, accessToken: login.data!.data.accessToken });
  const created = await admin.POST("/api/v1/public-api-keys", { body: { name: "ts sdk smoke", tier: "STANDARD" } });
  check("create key", created.response.status, 201, created.data !== undefined, created.error);
  calls++;

  const cx = createClient({ baseUrl, apiKey: created.data!.data.plainKey });
  const before = await cx.GET("/api/public/v1/sent-cases", { params: { query: { page: 1, limit: 5 } } });
  check("list sent cases", before.response.status, 200, before.data !== undefined, before.error);
  const total: number = before.data!.pagination.total;
  void total;
  calls++;

  const title = `TypeScript SDK smoke ${Date.now()}`;
  const newCase = await cx.POST("/api/public/v1/sent-cases", {
    body: { title, caseType: "auto_accident", jurisdiction: "CA", clientFirstName: "Dana", clientLastName: "Reyes" },
  });
  check("create sent case", newCase.response.status, 201, newCase.data !== undefined, newCase.error);
  calls++;
  const id: string = newCase.data!.data.id;

  const got = await cx.GET("/api/public/v1/sent-cases/{id}", { params: { path: { id } } });
  check("get sent case", got.response.status, 200, got.data !== undefined, got.error);
  const read = got.data!.data;
  if (read.id !== id || read.title !== title || read.status !== "draft") {
    throw new Error(`get sent case: read back ${JSON.stringify(read)}`);
  }
  calls++;

  const found = await cx.GET("/api/public/v1/sent-cases", { params: { query: { search: title } } });
  check("search sent cases", found.response.status, 200, found.data !== undefined, found.error);
  if (found.data!.data.length !== 1 || found.data!.data[0].id !== id) {
    throw new Error(`search sent cases: the new case is not the one match: ${JSON.stringify(found.data)}`);
  }
  calls++;

  // A case that does not exist: the error envelope is typed too.
  const missing = await cx.GET("/api/public/v1/sent-cases/{id}", {
    params: { path: { id: "00000000-0000-4000-8000-000000000000" } },
  });
  check("get missing case", missing.response.status, 404, missing.error !== undefined, missing.error);
  const code: string = missing.error!.error.code;
  if (code !== "resource_not_found") throw new Error(`get missing case: error code ${code}`);
  calls++;
  return calls;
}

const base = process.env.CX_BASE_URL;
if (base) {
  smoke(base, process.env.CX_EMAIL ?? "admin@acme.test", process.env.CX_PASSWORD ?? "casexchange-demo").then(
    (n) => console.log(`ts ${n} calls ok`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
