"""Adds idempotent writes and conditional requests (issue 9) to api-reference/openapi.yml.

Re-runnable: every addition is skipped when already present, so run it again after adding Public
API operations, then `make generate`. Usage: python3 internal/idempotency/annotate_spec.py api-reference/openapi.yml
"""
import sys
import yaml


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data):
    if '\n' in data:
        return dumper.represent_scalar('tag:yaml.org,2002:str', data, style='|')
    return dumper.represent_scalar('tag:yaml.org,2002:str', data)


Dumper.add_representer(str, _str)

PUBLIC = '/api/public/v1/'
RATE = {
    'X-RateLimit-Limit': {'$ref': '#/components/headers/X-RateLimit-Limit'},
    'X-RateLimit-Remaining': {'$ref': '#/components/headers/X-RateLimit-Remaining'},
    'X-RateLimit-Reset': {'$ref': '#/components/headers/X-RateLimit-Reset'},
}

INFO_PARAGRAPH = '''**Safe retries of writes.** Every Public API `POST` and `PATCH` accepts an optional
`Idempotency-Key` header: a value of your choice (1 to 255 printable ASCII characters, e.g.
a UUID) that names one logical write. The server remembers the outcome of the first request
with a given key for your firm during 24 hours, and a retry with the same key and the same
request (same method, path and body) gets that stored outcome back, byte for byte, marked
with `Idempotent-Replayed: true`, without doing the work again. Reusing a key for a
different request answers `422 idempotency_key_reused`; retrying while the first request
is still running answers `409 conflict` (wait and retry). Outcomes that are worth
retrying are not remembered: server errors (5xx), `409` and `429` release the key. For
multipart uploads the body is not hashed; method, path and `Content-Length` identify the
request.

**Cheap re-polling.** Authenticated Public API `GET` responses in JSON carry a strong
`ETag` computed from the body without its `meta` member (which changes on every response).
Send it back in `If-None-Match` (a list of tags and `*` are accepted; `W/` prefixes are
compared weakly) and, while the resource or list page is unchanged, the answer is
`304 Not Modified` with no body; the rate-limit headers and `X-Request-Id` are still sent
and the request still counts against the rate limit. File downloads and exports carry no
`ETag`.
'''

COMPONENT_PARAMETERS = {
    'IdempotencyKey': {
        'name': 'Idempotency-Key',
        'in': 'header',
        'required': False,
        'description': 'A key of your choice naming this write, so that it can be retried safely: a '
                       'retry with the same key and the same request within 24 hours returns the '
                       'first outcome instead of repeating it. 1 to 255 printable ASCII characters.',
        'schema': {'type': 'string', 'minLength': 1, 'maxLength': 255, 'pattern': '^[ -~]+$'},
        'example': '3f0c1d7e-8a52-4d8e-b1a9-6c2f0e4d9b17',
    },
    'IfNoneMatch': {
        'name': 'If-None-Match',
        'in': 'header',
        'required': False,
        'description': 'The `ETag` of a response you already have (or several, comma-separated, or '
                       '`*`). While it still matches, the answer is `304` with no body.',
        'schema': {'type': 'string'},
        'example': '"9b2f4c1e0d7a3b58c6e1f2a4d5b6c7e8"',
    },
}

COMPONENT_HEADERS = {
    'ETag': {
        'description': 'Strong validator of this JSON response: a quoted hash of the body without its '
                       '`meta` member. Send it in `If-None-Match` to get `304` while nothing changed.',
        'schema': {'type': 'string'},
    },
    'Idempotent-Replayed': {
        'description': 'Present (`true`) when this response is the stored outcome of an earlier request '
                       'with the same `Idempotency-Key`, returned again without repeating the work.',
        'schema': {'type': 'string', 'enum': ['true']},
    },
}

COMPONENT_RESPONSES = {
    'NotModified': {
        'description': 'Not modified: the `If-None-Match` tag still matches the current response, '
                       'so no body is sent. Keep using the copy you have.',
        'headers': {
            'ETag': {'$ref': '#/components/headers/ETag'},
            'X-Request-Id': {'$ref': '#/components/headers/X-Request-Id'},
            **RATE,
        },
    },
    'IdempotencyKeyReused': {
        'description': 'The `Idempotency-Key` was already used by your firm in the last 24 hours for a '
                       'different request (another method, path or body) '
                       '(`idempotency_key_reused`). Use a new key for a new request.',
        'content': {'application/json': {'schema': {'$ref': '#/components/schemas/Error'}}},
        'headers': {
            'X-Request-Id': {'$ref': '#/components/headers/X-Request-Id'},
            **RATE,
        },
    },
}


def add_missing(target, items):
    for k, v in items.items():
        if k not in target:
            target[k] = v


def insert_key(d, key, value, before):
    """Returns d with key inserted before the first key for which before(k) is true."""
    if key in d:
        return d
    out, done = {}, False
    for k, v in d.items():
        if not done and before(k):
            out[key] = value
            done = True
        out[k] = v
    if not done:
        out[key] = value
    return out


def code_after(code):
    def before(k):
        return k == 'default' or (str(k).isdigit() and int(k) > code)
    return before


def add_param(op, ref):
    params = op.get('parameters')
    entry = {'$ref': ref}
    if params is None:
        keys = list(op.keys())
        anchor = 'x-access-tier' if 'x-access-tier' in keys else 'description'
        out = {}
        for k, v in op.items():
            out[k] = v
            if k == anchor:
                out['parameters'] = [entry]
        return out
    if entry not in params:
        params.append(entry)
    return op


def authenticated(spec, op):
    sec = op.get('security', spec.get('security'))
    return bool(sec)


def json_200(op):
    r = op['responses'].get('200')
    return r is not None and '$ref' not in r and 'application/json' in (r.get('content') or {})


def main(path):
    src = open(path).read()
    first = src.split('\n', 1)[0]
    spec = yaml.safe_load(src)

    desc = spec['info']['description']
    if 'Idempotency-Key' not in desc:
        spec['info']['description'] = desc.rstrip('\n') + '\n\n' + INFO_PARAGRAPH

    comps = spec['components']
    add_missing(comps['parameters'], COMPONENT_PARAMETERS)
    add_missing(comps['headers'], COMPONENT_HEADERS)
    add_missing(comps['responses'], COMPONENT_RESPONSES)

    for p, item in spec['paths'].items():
        if not p.startswith(PUBLIC):
            continue
        for method in list(item.keys()):
            op = item[method]
            if method not in ('get', 'post', 'patch') or not authenticated(spec, op):
                continue
            if method in ('post', 'patch'):
                op = add_param(op, '#/components/parameters/IdempotencyKey')
                resps = op['responses']
                for code, r in resps.items():
                    if str(code).startswith('2') and '$ref' not in r:
                        r.setdefault('headers', {})
                        r['headers'].setdefault('Idempotent-Replayed', {'$ref': '#/components/headers/Idempotent-Replayed'})
                resps = insert_key(resps, '409', {'$ref': '#/components/responses/Conflict'}, code_after(409))
                resps = insert_key(resps, '422', {'$ref': '#/components/responses/IdempotencyKeyReused'}, code_after(422))
                op['responses'] = resps
            elif json_200(op):
                op = add_param(op, '#/components/parameters/IfNoneMatch')
                resps = op['responses']
                r = resps['200']
                r.setdefault('headers', {})
                r['headers'].setdefault('ETag', {'$ref': '#/components/headers/ETag'})
                op['responses'] = insert_key(resps, '304', {'$ref': '#/components/responses/NotModified'}, code_after(304))
            item[method] = op

    out = first + '\n' + yaml.dump(spec, Dumper=Dumper, sort_keys=False, width=100, allow_unicode=True,
                                   default_flow_style=False)
    # Refuse to overwrite a file that changed while we worked (others edit it too).
    if open(path).read() != src:
        sys.exit('spec changed during the edit; run again')
    open(path, 'w').write(out)


if __name__ == '__main__':
    main(sys.argv[1])
