// The CaseXchange TypeScript SDK: a typed openapi-fetch client over the types that
// openapi-typescript generates from the contract (schema.d.ts, by make sdk). Paths, parameters,
// bodies and answers are all checked against api-reference/openapi.yml at compile time.
import createFetchClient from "openapi-fetch";
import type { Client, ClientOptions as FetchClientOptions } from "openapi-fetch";
import type { paths } from "./schema.js";

export type { paths, components, operations } from "./schema.js";

/** A client of the whole API, typed by the contract. */
export type CaseXchangeClient = Client<paths>;

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The server, without a path: `http://127.0.0.1:8080`. Operation paths are absolute. */
  baseUrl: string;
  /** A Public API key, sent as `X-API-Key` on every request (`/api/public/v1`). */
  apiKey?: string;
  /** An Internal API access token (from `POST /api/v1/auth/login`), sent as a bearer token. */
  accessToken?: string;
  /** More headers for every request. */
  headers?: Record<string, string>;
  /** Another fetch implementation (tests, proxies). */
  fetch?: FetchClientOptions["fetch"];
}

/** Returns a typed client; `apiKey` and `accessToken` are added to every request it sends. */
export function createClient(options: ClientOptions): CaseXchangeClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) headers["X-API-Key"] = options.apiKey;
  if (options.accessToken !== undefined) headers["Authorization"] = `Bearer ${options.accessToken}`;
  return createFetchClient<paths>({ baseUrl: options.baseUrl, headers, fetch: options.fetch });
}
