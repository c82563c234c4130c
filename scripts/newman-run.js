#!/usr/bin/env node
// Runs our own Postman collection (postman/collection.json, generated from the contract by
// internal/tools/postmangen) with newman against a running server that holds the demo data
// (scripts/newman.sh starts one). No failure is allowed: every failed assertion, script error
// or request without an answer fails the run.
//
//   node scripts/newman-run.js --base-url http://127.0.0.1:8080 --mail-dir DIR [--verbose] [--record FILE]
//
// --record FILE writes every exchange (the operation, the request as sent, the status and body of
// the answer) as JSON to FILE; internal/tools/examplegen turns it into the reference's examples.
//
// The folders run in order, in passes that share one environment. A folder that needs a token
// the server e-mails ({{invitationToken}}, {{resetToken}}) starts a new pass, after the token is
// read from the .eml files the server wrote under --mail-dir (the link of the mail sent to
// {{inviteeEmail}}), as a person using Postman would copy it.
//
// Prints one line: "newman: N requests, M assertions, F failed".
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const newman = require(path.join(root, 'node_modules', 'newman'));

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--base-url') opt.baseUrl = args[++i];
  else if (a === '--mail-dir') opt.mailDir = args[++i];
  else if (a === '--verbose') opt.verbose = true;
  else if (a === '--record') opt.record = args[++i];
  else { console.error('unknown argument ' + a); process.exit(2); }
}
if (!opt.baseUrl) { console.error('--base-url is required'); process.exit(2); }

const dir = path.join(root, 'postman');
const collection = JSON.parse(fs.readFileSync(path.join(dir, 'collection.json'), 'utf8'));
const envFile = JSON.parse(fs.readFileSync(path.join(dir, 'environment.json'), 'utf8'));
let env = envFile.values.map(v => ({ key: v.key, value: v.value, enabled: true }));
const setVar = (k, value) => {
  const e = env.find(x => x.key === k);
  if (e) e.value = value; else env.push({ key: k, value, enabled: true });
};
const getVar = k => (env.find(x => x.key === k) || {}).value;
setVar('baseUrl', opt.baseUrl);
// Deliveries to this path of the server fail with 404, which is all a subscription needs; the
// walk's deliveries that must succeed use the echo endpoint.
setVar('webhookUrl', opt.baseUrl + '/newman-webhook-sink');

// The e-mailed tokens: variable -> the page its link points to.
const MAIL = { invitationToken: '/accept-invitation', resetToken: '/reset-password' };

async function mailToken(addr, page) {
  if (!opt.mailDir) throw new Error('--mail-dir is required to read the token of ' + page);
  for (let i = 0; i < 120; i++) {
    // Newest first (by name: the send time leads it).
    const files = (fs.existsSync(opt.mailDir) ? fs.readdirSync(opt.mailDir).filter(f => f.endsWith('.eml') && f.includes(addr)) : [])
      .sort().reverse();
    for (const f of files) {
      const text = fs.readFileSync(path.join(opt.mailDir, f), 'latin1').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const m = text.match(new RegExp(page.replace(/[/-]/g, '\\$&') + '\\?token=([A-Za-z0-9_-]+)'));
      if (m) return m[1];
    }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error(`no e-mail to ${addr} with a ${page} link in ${opt.mailDir}`);
}

// passes groups the folders: a new pass starts at each folder needing an e-mailed token.
function passes() {
  const out = [];
  for (const f of collection.item) {
    const needs = Object.keys(MAIL).filter(k => JSON.stringify(f).includes('{{' + k + '}}'));
    if (needs.length || !out.length) out.push({ needs, folders: [] });
    out[out.length - 1].folders.push(f.name);
  }
  return out;
}

// exchange is one request of a run as sent and answered, for --record.
function exchange(ex) {
  const desc = ex.item.request && ex.item.request.description;
  const text = desc && (typeof desc === 'string' ? desc : desc.content) || '';
  const m = text.match(/Operation `([A-Za-z0-9_]+)`/);
  const req = ex.request, res = ex.response;
  const header = (h, k) => (h && h.get ? h.get(k) : undefined) || '';
  const body = req.body ? req.body.toJSON() : null;
  return {
    name: ex.item.name,
    operationId: m ? m[1] : '',
    method: req.method,
    url: req.url.toString(),
    requestContentType: header(req.headers, 'Content-Type'),
    requestBodyMode: body ? body.mode || '' : '',
    requestBody: body && body.mode === 'raw' ? body.raw : null,
    status: res ? res.code : 0,
    responseContentType: res ? header(res.headers, 'Content-Type') : '',
    responseBody: res && res.stream ? res.stream.toString('utf8') : null,
  };
}

function run(folders) {
  return new Promise((resolve, reject) => newman.run({
    collection,
    environment: { values: env },
    folder: folders,
    workingDir: dir,
    reporters: [],
    timeoutRequest: 30000,
  }, (err, summary) => (err ? reject(err) : resolve(summary))));
}

(async () => {
  let requests = 0, assertions = 0, failed = 0;
  const problems = [];
  const recorded = [];
  for (const pass of passes()) {
    for (const k of pass.needs) {
      try {
        setVar(k, await mailToken(getVar('inviteeEmail'), MAIL[k]));
      } catch (e) {
        // The e-mail usually fails to come because an earlier request failed: say which.
        for (const p of problems) console.log('FAILED ' + p);
        throw e;
      }
    }
    const summary = await run(pass.folders);
    env = summary.environment.values.all().map(x => ({ key: x.key, value: x.value, enabled: true }));
    for (const ex of summary.run.executions) {
      requests++;
      assertions += (ex.assertions || []).length;
      if (opt.record) recorded.push(exchange(ex));
    }
    for (const f of summary.run.failures) {
      failed++;
      const name = f.source && f.source.name ? f.source.name : '?';
      const at = f.error && f.error.test ? f.error.test : (f.at || '');
      const ex = summary.run.executions.find(e => f.cursor && e.cursor && e.cursor.ref === f.cursor.ref);
      const code = ex && ex.response ? ex.response.code : '-';
      let detail = '';
      if (opt.verbose && ex && ex.response) detail = '\n    response: ' + ex.response.stream.toString().slice(0, 400);
      problems.push(`${name} :: ${at} :: ${(f.error && f.error.message || '').split('\n').join(' ').slice(0, 300)} (HTTP ${code})${detail}`);
    }
  }
  for (const p of problems) console.log('FAILED ' + p);
  if (opt.record) fs.writeFileSync(opt.record, JSON.stringify({ baseUrl: opt.baseUrl, exchanges: recorded }, null, 1) + '\n');
  const line = `newman: ${requests} requests, ${assertions} assertions, ${failed} failed`;
  console.log(line);
  if (process.env.CX_TEST_SUMMARY) fs.appendFileSync(process.env.CX_TEST_SUMMARY, line + '\n');
  process.exit(failed > 0 ? 1 : 0);
})().catch(e => { console.error('newman: ' + (e.stack || e.message)); process.exit(1); });
