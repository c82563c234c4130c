"""Checks that a webhook delivery really comes from CaseXchange:

    CX_WEBHOOK_SECRET=whsec_... python3 verify.py "$SIGNATURE_HEADER" < body.json
"""
import hashlib
import hmac
import os
import sys
import time

TOLERANCE_SECONDS = 300  # how far the signature's timestamp may be from our clock


def verify_signature(secret, header, body, now=None):
    """Raises ValueError unless header (the X-CaseXchange-Signature value) signs body, the
    raw bytes exactly as received (before json.loads)."""
    timestamp, signatures = "", []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value.lower().encode())
    if not timestamp.isdigit() or not signatures:
        raise ValueError("malformed signature header")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise ValueError("timestamp outside the tolerance")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise ValueError("signature does not match")


if __name__ == "__main__":
    try:
        verify_signature(os.environ.get("CX_WEBHOOK_SECRET", ""), sys.argv[1], sys.stdin.buffer.read())
    except (ValueError, IndexError) as err:
        print(f"rejected: {err}")
        sys.exit(1)
    print("verified")
