// The README's example, type-checked with the package (it is compiled, never run: it needs a
// live server and a key). Only the import differs: the package's source instead of its name.
import { createClient } from "../src/index.js";
const cx = createClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.CX_API_KEY! });
const { data, error } = await cx.GET("/api/public/v1/sent-cases", { params: { query: { limit: 20 } } });
if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
for (const c of data.data) console.log(c.id, c.status, c.title);
