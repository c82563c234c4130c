#!/usr/bin/env node
// Runs the published CaseXchange Postman collection against a running server with newman and
// judges the result: every failed assertion fails the run unless test/newman/allowlist.json
// names that request and assertion with the reason it is the collection's fault, not ours.
//
//   node test/newman/run.js --base-url http://127.0.0.1:8080 [--folders all|F1,F2] [--var k=v ...]
//
// Prints one summary line: "newman: N passed, M failed, K allowed".
'use strict';
const fs = require('fs');
const path = require('path');
const newman = require('newman');

const args = process.argv.slice(2);
const opt = { folders: null, vars: {} };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--base-url') opt.baseUrl = args[++i];
  else if (a === '--folders') opt.folders = args[++i];
  else if (a === '--var') { const [k, ...v] = args[++i].split('='); opt.vars[k] = v.join('='); }
  else if (a === '--reference') opt.reference = args[++i];
  else { console.error('unknown argument ' + a); process.exit(2); }
}
const here = __dirname;
const refDir = opt.reference || path.join(here, '..', '..', '..', 'shared', 'reference', 'postman');
const collectionFile = path.join(refDir, 'collection-2026-04-01.json');
if (!fs.existsSync(collectionFile)) {
  console.log('newman: skipped: the reference collection is absent (' + collectionFile + ')');
  process.exit(0);
}
if (!opt.baseUrl) { console.error('--base-url is required'); process.exit(2); }

const allow = JSON.parse(fs.readFileSync(path.join(here, 'allowlist.json'), 'utf8'));
const folderFile = path.join(here, 'folders.txt');
let folders = opt.folders
  ? (opt.folders === 'all' ? [] : opt.folders.split(','))
  : fs.readFileSync(folderFile, 'utf8').split('\n').map(s => s.trim()).filter(s => s && !s.startsWith('#'));

const envVars = Object.assign({
  base_url: opt.baseUrl,
  public_api_url: opt.baseUrl + '/api/public/v1',
  internal_api_url: opt.baseUrl + '/api/v1',
  login_email: 'admin@acme.test',
  login_password: 'casexchange-demo',
}, opt.vars);

newman.run({
  collection: JSON.parse(fs.readFileSync(collectionFile, 'utf8')),
  environment: { values: Object.entries(envVars).map(([key, value]) => ({ key, value, enabled: true })) },
  folder: folders.length ? folders : undefined,
  reporters: ['cli'],
  reporter: { cli: { noSummary: false, noAssertions: false, noConsole: true } },
  timeoutRequest: 30000,
}, (err, summary) => {
  if (err) { console.error('newman: run error: ' + err.message); process.exit(1); }
  let passed = 0, failed = 0, allowed = 0;
  const problems = [];
  for (const ex of summary.run.executions) {
    const name = ex.item.name;
    for (const as of ex.assertions || []) {
      if (!as.error) { passed++; continue; }
      const entry = allow.find(a => a.request === name && (!a.assertion || a.assertion === as.assertion));
      if (entry) { allowed++; continue; }
      failed++;
      problems.push(`${name} :: ${as.assertion} :: ${as.error.message} (HTTP ${ex.response ? ex.response.code : '-'})`);
    }
    if (!ex.response) {
      failed++;
      problems.push(`${name} :: no response`);
    }
  }
  for (const p of problems) console.log('FAILED ' + p);
  console.log(`newman: ${passed} passed, ${failed} failed, ${allowed} allowed`);
  process.exit(failed > 0 ? 1 : 0);
});
