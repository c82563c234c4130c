#!/usr/bin/env python3
"""Merge api-reference/parts/*.yml into api-reference/openapi.yml (one-time bootstrap tool).

Besides concatenating paths and components (a duplicate key is an error), it applies
the conventions every Public API operation shares so the parts need not repeat them:
security, the standard error responses, a `default` error response, and the
rate-limit / request-id headers on every response.
"""
import glob, os, sys, yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "openapi.yml")
METHODS = ("get", "post", "put", "patch", "delete")

class Dumper(yaml.SafeDumper):
    pass
def _str(d, s):
    if "\n" in s:
        return d.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return d.represent_scalar("tag:yaml.org,2002:str", s)
Dumper.add_representer(str, _str)
Dumper.ignore_aliases = lambda self, data: True

def main():
    files = sorted(glob.glob(os.path.join(HERE, "*.yml")))
    doc = None
    tags = []
    for f in files:
        part = yaml.safe_load(open(f)) or {}
        if doc is None:
            doc = part
            doc.setdefault("paths", {})
            tags = list(doc.get("tags") or [])
            continue
        for t in part.get("tags") or []:
            if t["name"] not in [x["name"] for x in tags]:
                tags.append(t)
        for p, item in (part.get("paths") or {}).items():
            if p in doc["paths"]:
                for m, op in item.items():
                    if m in doc["paths"][p]:
                        sys.exit(f"{f}: duplicate operation {m} {p}")
                    doc["paths"][p][m] = op
            else:
                doc["paths"][p] = item
        for sect, items in (part.get("components") or {}).items():
            dst = doc["components"].setdefault(sect, {})
            for k, v in items.items():
                if k in dst:
                    sys.exit(f"{f}: duplicate component {sect}.{k}")
                dst[k] = v
    doc["tags"] = tags
    ids = {}
    for p, item in doc["paths"].items():
        public = p.startswith("/api/public/v1/")
        unauth = p in ("/api/public/v1/health", "/api/public/v1/openapi.yml", "/api/public/v1/openapi.json")
        for m in METHODS:
            op = item.get(m)
            if not op:
                continue
            oid = op.get("operationId")
            if not oid or oid in ids:
                sys.exit(f"missing or duplicate operationId {oid} at {m} {p}")
            ids[oid] = p
            resp = op.setdefault("responses", {})
            if public and not unauth:
                op.setdefault("security", [{"apiKeyAuth": []}])
                if "x-access-tier" not in op:
                    sys.exit(f"no x-access-tier at {m} {p}")
                for code, ref in (("401", "Unauthorized"), ("403", "Forbidden"), ("429", "RateLimited")):
                    resp.setdefault(code, {"$ref": f"#/components/responses/{ref}"})
            if "{" in p:
                resp.setdefault("404", {"$ref": "#/components/responses/NotFound"})
            if op.get("parameters") or op.get("requestBody"):
                resp.setdefault("400", {"$ref": "#/components/responses/BadRequest"})
            resp.setdefault("500", {"$ref": "#/components/responses/InternalError"})
            resp.setdefault("default", {"$ref": "#/components/responses/ServiceUnavailable"})
            for code, r in resp.items():
                if "$ref" in r:
                    continue
                h = r.setdefault("headers", {})
                h.setdefault("X-Request-Id", {"$ref": "#/components/headers/X-Request-Id"})
                if public and not unauth:
                    for n in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
                        h.setdefault(n, {"$ref": f"#/components/headers/{n}"})
    for name, r in doc["components"].get("responses", {}).items():
        if "content" not in r:
            continue
        h = r.setdefault("headers", {})
        h.setdefault("X-Request-Id", {"$ref": "#/components/headers/X-Request-Id"})
        for n in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
            h.setdefault(n, {"$ref": f"#/components/headers/{n}"})
    with open(OUT, "w") as fh:
        fh.write("# The CaseXchange API contract: the source of truth for the server, its tests and SDKs.\n")
        yaml.dump(doc, fh, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)
    print(f"wrote {OUT}: {sum(len([m for m in i if m in METHODS]) for i in doc['paths'].values())} operations")

if __name__ == "__main__":
    main()
