// Checks that a webhook delivery really comes from CaseXchange:
//   CX_WEBHOOK_SECRET=whsec_... node verify.js "$SIGNATURE_HEADER" < body.json
const crypto = require('node:crypto');

const TOLERANCE_SECONDS = 300; // how far the signature's timestamp may be from our clock

// verifySignature throws unless header (the X-CaseXchange-Signature value) signs rawBody, a
// Buffer holding the body exactly as received (before JSON.parse).
function verifySignature(secret, header, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) {
  let timestamp = '';
  const signatures = [];
  for (const part of String(header || '').split(',')) {
    const [key, value = ''] = part.trim().split('=');
    if (key === 't') timestamp = value;
    if (key === 'v1') signatures.push(value);
  }
  if (!/^\d+$/.test(timestamp) || signatures.length === 0) {
    throw new Error('malformed signature header');
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    throw new Error('timestamp outside the tolerance');
  }
  const expected = crypto.createHmac('sha256', secret).update(timestamp + '.').update(rawBody).digest();
  const matches = signatures.some((s) => {
    const given = Buffer.from(s, 'hex');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  if (!matches) {
    throw new Error('signature does not match');
  }
}

module.exports = { verifySignature };

if (require.main === module) {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    try {
      verifySignature(process.env.CX_WEBHOOK_SECRET, process.argv[2], Buffer.concat(chunks));
      console.log('verified');
    } catch (err) {
      console.log('rejected: ' + err.message);
      process.exitCode = 1;
    }
  });
}
