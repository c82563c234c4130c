#!/usr/bin/env node
// Contract tests generated from our own spec (api-reference/openapi.yml) with portman, run with
// newman against a running server that holds the demo data (scripts/portman.sh starts one).
//
//   node test/portman/run.js --base-url http://127.0.0.1:8080 [--work-dir DIR] [--keep] [--verbose]
//
// 1. prepare: over HTTP, as the demo admins, create what the requests act on (a referral in the
//    status each lifecycle action needs, spare keys, sessions, webhooks, users, documents...) and
//    name it in an environment variable "<operationId>.<pathParameter>", which the overwrite in
//    portman-config.json puts into every path.
// 2. generate: portman turns the spec into a collection with contract tests for every operation
//    (2xx, content type, JSON schema, declared headers) and variation tests for every JSON body
//    (portman's fuzzing: each required field missing, numbers below minimum / above maximum,
//    strings too short / too long; plus, derived here from the spec, a wrong type and a value
//    outside an enum). Every variation expects 400 with our error envelope and validation_error.
// 3. run the collection with newman. Operations in excluded.json are dropped from the
//    collection; every other operation of the spec must have run with assertions. A failed
//    assertion fails the run unless an entry of known-failures.json matches it: operationId (or
//    "*"), and optionally variation (true/false), item (part of the request name), assertion
//    (part of the test name), status (the HTTP status answered) and errors (a regular expression
//    every error of a failed schema check must match). Each entry gives the reason and the fix.
//
// Prints one line: "portman: N requests, M assertions, F failed (V variation tests)".
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.join(__dirname, '..', '..');
const here = __dirname;
const yaml = require(path.join(root, 'node_modules', 'js-yaml'));
const newman = require(path.join(root, 'node_modules', 'newman'));

const args = process.argv.slice(2);
const opt = { keep: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--base-url') opt.baseUrl = args[++i];
  else if (a === '--work-dir') opt.workDir = args[++i];
  else if (a === '--keep') opt.keep = true;
  else if (a === '--verbose') opt.verbose = true;
  else if (a === '--collection') opt.collection = args[++i]; // reuse a generated collection (kept with --keep)
  else { console.error('unknown argument ' + a); process.exit(2); }
}
if (!opt.baseUrl) { console.error('--base-url is required'); process.exit(2); }
const workDir = fs.mkdtempSync(path.join(opt.keep || !opt.workDir ? os.tmpdir() : opt.workDir, 'portman-'));
const specFile = path.join(root, 'api-reference', 'openapi.yml');
const spec = yaml.load(fs.readFileSync(specFile, 'utf8'));
const excluded = JSON.parse(fs.readFileSync(path.join(here, 'excluded.json'), 'utf8'));
const known = JSON.parse(fs.readFileSync(path.join(here, 'known-failures.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

// ---------------------------------------------------------------------------------------------
// 1. Fixtures

const base = opt.baseUrl;
const PUB = base + '/api/public/v1';

async function call(method, url, { key, token, body, form } = {}) {
  const headers = {};
  if (key) headers['X-API-Key'] = key;
  if (token) headers.Authorization = 'Bearer ' + token;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(url, { method, headers, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

// must is call() that throws unless the answer is 2xx, and returns the body's data.
async function must(method, url, o) {
  const r = await call(method, url, o);
  if (r.status < 200 || r.status > 299) {
    throw new Error(`prepare: ${method} ${url.replace(base, '')} answered ${r.status}: ${r.text.slice(0, 300)}`);
  }
  return r.json ? r.json.data : null;
}

async function login(email, password = 'casexchange-demo') {
  return must('POST', base + '/api/v1/auth/login', { body: { email, password } });
}

async function fullKey(token, name) {
  return must('POST', base + '/api/v1/public-api-keys', { token, body: { name, tier: 'FULL' } });
}

let caseSeq = 0;
// mkCase creates a case owned by the firm of key, sent to referent (or a draft without one), and
// returns {caseId, referralId}.
async function mkCase(key, referent) {
  caseSeq++;
  const body = {
    title: `Portman fixture ${caseSeq}`, caseType: 'Personal Injury', jurisdiction: 'CA',
    clientFirstName: 'Fixture', clientLastName: `Client${caseSeq}`,
  };
  if (referent) body.referentFirmId = referent;
  const c = await must('POST', PUB + '/cases', { key, body });
  return { caseId: c.id, referralId: c.currentReferralId };
}

const REACH = {
  sent: [],
  under_evaluation: [['acknowledge']],
  investigating: [['acknowledge'], ['begin-investigating']],
  signed: [['acknowledge'], ['sign']],
};
// referral creates a case from the firm of fromKey to firm toId and has the receiving firm
// (toKey) move its referral to status.
async function referral(fromKey, toId, toKey, status) {
  const c = await mkCase(fromKey, toId);
  for (const [action] of REACH[status]) {
    await must('POST', `${PUB}/referrals/${c.referralId}/${action}`, { key: toKey, body: {} });
  }
  return c;
}

async function prepare() {
  const env = {
    baseUrl: base,
    loginEmail: 'admin@acme.test',
    loginPassword: 'casexchange-demo',
    // Webhooks point at a path of this server (plain http to a private address, which the
    // script allows): deliveries to it fail with 404, which is all a subscription needs.
    hookUrl: base + '/portman-webhook-sink',
  };
  const set = (op, params) => { for (const [k, v] of Object.entries(params)) env[`${op}.${k}`] = v; };

  // Sessions: the main one, and separate ones for the operations that end or rotate a session.
  const acme = await login('admin@acme.test');
  env.bearerToken = acme.accessToken;
  env.logoutToken = (await login('admin@acme.test')).accessToken;
  env.refreshToken = (await login('admin@acme.test')).refreshToken;
  await login('admin@acme.test'); // a session for revokeAuthSession
  const sessions = await must('GET', base + '/api/v1/auth/sessions', { token: acme.accessToken });
  const other = sessions.filter(s => !s.current).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))[0];
  set('revokeAuthSession', { id: other.id });
  // changePassword runs as another firm's admin, so the demo admin's password stays.
  env.passwordToken = (await login('admin@summit.test')).accessToken;

  const key = await fullKey(acme.accessToken, 'portman runner');
  env.apiKey = key.plainKey;
  set('getPublicApiKeyUsage', { id: key.id });
  set('revokePublicApiKey', { id: (await fullKey(acme.accessToken, 'portman spare')).id });
  const k = env.apiKey;
  const bay = await login('admin@baylegal.test');
  const bayKey = (await fullKey(bay.accessToken, 'portman partner')).plainKey;

  const me = await must('GET', PUB + '/firms/me', { key: k });
  const dir = await must('GET', PUB + '/firms/directory?search=Bay%20Legal', { key: k });
  const bayId = dir[0].id;
  env.partnerFirmId = bayId;
  env.ownFirmId = me.id;
  set('getFirmById', { id: bayId });
  for (const op of ['getOutboundNetworkFirmDetail', 'upsertOutboundNetworkRelationship', 'updateOutboundNetworkRelationship',
    'getInboundNetworkFirmDetail', 'updateInboundNetworkRelationship']) set(op, { firmId: bayId });

  const caseTypes = await must('GET', PUB + '/case-types', { key: k });
  const pi = caseTypes.find(c => c.name === 'Personal Injury' || c.displayName === 'Personal Injury') || caseTypes[0];
  env.caseTypeId = pi.id;
  set('listCaseTypeFields', { caseTypeId: pi.id });

  // Routing rules: one to update (from the demo data), one to delete.
  const rules = await must('GET', PUB + '/routing/rules', { key: k });
  set('updateRoutingRule', { id: rules[0].id });
  const spareRule = await must('POST', PUB + '/routing/rules', { key: k, body: {
    name: 'Portman rule to delete', caseTypeIds: [pi.id], jurisdictionCodes: ['NV'], priority: 50,
    assignments: [{ recipientType: 'casexchange_firm', casexchangeFirmId: bayId, distributionWeight: 1 }],
  } });
  set('deleteRoutingRule', { id: spareRule.id });

  // Cases the caller sent, and drafts.
  const sent = await mkCase(k, bayId);
  env.sentCaseId = sent.caseId;
  for (const op of ['getSentCase', 'patchSentCase', 'getSentCaseAvailableStatuses', 'getCaseById', 'updateCase', 'getCaseStatusHistory']) {
    set(op, { id: sent.caseId });
  }
  set('listReferrals', { baseCaseId: sent.caseId });
  for (const op of ['getReferral', 'updateReferral', 'getReferralStatusHistory']) set(op, { baseCaseId: sent.caseId, id: sent.referralId });
  for (const op of ['getTopLevelReferral', 'updateTopLevelReferral', 'getTopLevelReferralStatusHistory']) set(op, { id: sent.referralId });
  set('referSentCase', { id: (await mkCase(k)).caseId });
  for (const op of ['deleteReferral', 'sendReferral']) {
    const d = await mkCase(k);
    set(op, { baseCaseId: d.caseId, id: d.referralId });
  }
  for (const op of ['deleteTopLevelReferral', 'sendTopLevelReferral']) set(op, { id: (await mkCase(k)).referralId });
  const w1 = await referral(k, bayId, bayKey, 'sent');
  set('withdrawReferral', { baseCaseId: w1.caseId, id: w1.referralId });
  set('withdrawTopLevelReferral', { id: (await referral(k, bayId, bayKey, 'under_evaluation')).referralId });

  // Referrals the caller received, each in the status its action starts from.
  const NEED = {
    acknowledge: 'sent', 'begin-investigating': 'under_evaluation', sign: 'under_evaluation',
    'start-litigation': 'signed', close: 'investigating', reject: 'sent',
  };
  const FAMILIES = {
    acknowledge: ['acknowledgeReceivedReferral', 'acknowledgeReferral', 'acknowledgeTopLevelReferral'],
    'begin-investigating': ['beginInvestigatingReceivedReferral', 'beginInvestigatingReferral', 'beginInvestigatingTopLevelReferral'],
    sign: ['signReceivedReferral', 'signReferral', 'signTopLevelReferral'],
    'start-litigation': ['startLitigationReceivedReferral', 'startLitigationReferral', 'startLitigationTopLevelReferral'],
    close: ['closeReceivedReferral', 'closeReferral', 'closeTopLevelReferral'],
    reject: ['rejectReceivedReferral', 'rejectReferral', 'rejectTopLevelReferral'],
  };
  for (const [action, ops] of Object.entries(FAMILIES)) {
    for (const op of ops) {
      const r = await referral(bayKey, me.id, k, NEED[action]);
      if (op.endsWith('ReceivedReferral')) set(op, { id: r.referralId });
      else if (op.endsWith('TopLevelReferral')) set(op, { id: r.referralId });
      else set(op, { baseCaseId: r.caseId, id: r.referralId });
    }
  }
  const recv = await referral(bayKey, me.id, k, 'under_evaluation');
  for (const op of ['getReceivedReferral', 'patchReceivedReferral', 'getReceivedReferralAvailableStatuses']) set(op, { id: recv.referralId });
  set('acknowledgeCase', { id: (await referral(bayKey, me.id, k, 'sent')).caseId });
  set('updateCaseStatus', { id: (await referral(bayKey, me.id, k, 'under_evaluation')).caseId });
  set('closeCase', { id: (await referral(bayKey, me.id, k, 'investigating')).caseId });

  // Fees (issue 19): agreements on referrals between the two demo firms, and ledger entries of
  // referrals Bay Legal sent to the caller, closed won (the caller owes them).
  const terms = { basis: 'proportional', referringFirmPercentage: 50, receivingFirmPercentage: 50, clientContingencyPercentage: 30 };
  const propose = (ref, key) => must('POST', `${PUB}/referrals/${ref}/fee-agreement/versions`, { key, body: terms });
  set('getReferralFeeAgreement', { id: sent.referralId });
  set('getCaseReferralFeeAgreement', { baseCaseId: sent.caseId, id: sent.referralId });
  set('proposeReferralFeeAgreement', { id: sent.referralId });
  const toAccept = await referral(k, bayId, bayKey, 'under_evaluation');
  await propose(toAccept.referralId, bayKey);
  set('acceptReferralFeeAgreement', { id: toAccept.referralId, version: 1 });
  const toConsent = await referral(k, bayId, bayKey, 'under_evaluation');
  await propose(toConsent.referralId, k);
  set('recordReferralFeeConsent', { id: toConsent.referralId });
  const feeEntry = async () => {
    const r = await referral(bayKey, me.id, k, 'investigating');
    await propose(r.referralId, bayKey);
    await must('POST', `${PUB}/referrals/${r.referralId}/fee-agreement/versions/1/accept`, { key: k, body: {} });
    await must('POST', `${PUB}/referrals/${r.referralId}/close`, { key: k, body: { closingStatus: 'won_settled', attorneyFees: 30000 } });
    const l = await must('GET', `${PUB}/fees/ledger?direction=i_owe&limit=100`, { key: k });
    return l.find(e => e.referralId === r.referralId).id;
  };
  for (const op of ['getFeeLedgerEntry', 'recordFeePayment', 'disputeFeeLedgerEntry', 'writeOffFeeLedgerEntry']) {
    set(op, { entryId: await feeEntry() });
  }

  // Documents on the sent case: one to delete, one to download.
  const pdf = fs.readFileSync(path.join(root, 'test', 'newman', 'files', 'referral-summary.pdf'));
  const upload = async () => {
    const form = new FormData();
    form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'referral-summary.pdf');
    return must('POST', `${PUB}/cases/${sent.caseId}/documents`, { key: k, form });
  };
  for (const op of ['listDocuments', 'uploadDocument']) set(op, { caseId: sent.caseId });
  set('deleteDocument', { caseId: sent.caseId, docId: (await upload()).id });
  const doc = await upload();
  set('getDocumentDownloadUrl', { caseId: sent.caseId, docId: doc.id });
  const link = await must('GET', `${PUB}/cases/${sent.caseId}/documents/${doc.id}/download`, { key: k });
  set('downloadDocumentContent', { token: (link.downloadUrl || link.url).split('?')[0].split('/').pop() });

  // Users: one to update, one to deactivate.
  const invite = async n => must('POST', PUB + '/users', { key: k, body: {
    email: `portman-${n}-${Date.now()}@acme.test`, firstName: 'Portman', lastName: n, role: 'MEMBER' } });
  set('updateUser', { id: (await invite('update')).id });
  set('deactivateUser', { id: (await invite('deactivate')).id });

  const med = await must('POST', PUB + '/medical-referrals', { key: k, body: {
    baseCaseId: sent.caseId, providerName: 'Portman Clinic', referralType: 'orthopedic',
    clientFirstName: 'Fixture', clientLastName: 'Client', dateOfInjury: '2026-03-01' } });
  for (const op of ['getMedicalReferralById', 'updateMedicalReferral']) set(op, { id: med.id });

  // Webhooks: one for the operations on a subscription, one to delete, one whose echo token
  // receives a payload.
  const hook = async d => must('POST', PUB + '/webhooks', { key: k, body: { url: env.hookUrl, description: d } });
  const w = await hook('portman');
  for (const op of ['getWebhook', 'updateWebhook', 'listWebhookDeliveries', 'testWebhook', 'rotateWebhookSecret',
    'enableWebhookEcho', 'disableWebhookEcho']) set(op, { id: w.id });
  set('deleteWebhook', { id: (await hook('portman delete')).id });
  // In echo mode deliveries go to the server's own echo endpoint and succeed: a delivered
  // delivery is one that can be sent again.
  const echoHook = await hook('portman echo');
  const echo = await must('POST', `${PUB}/webhooks/${echoHook.id}/echo/enable`, { key: k });
  set('receiveWebhookEcho', { token: echo.echoToken });
  set('listWebhookEchoCaptures', { id: echoHook.id });
  const t = await must('POST', `${PUB}/webhooks/${echoHook.id}/test`, { key: k });
  set('redeliverWebhookDelivery', { id: echoHook.id, deliveryId: t.deliveryId });

  // Accounts (issue 16). The server writes its e-mail as .eml files under its data directory
  // (the work directory given by scripts/portman.sh): the invitation and reset tokens are read
  // from there. resendInvitation gets an invited user of its own; the Salesforce token
  // operations a token each.
  const mailDir = opt.workDir ? path.join(opt.workDir, 'mail') : null;
  const mailToken = async (addr, page) => {
    for (let i = 0; i < 120 && mailDir; i++) {
      const files = fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter(f => f.endsWith('.eml') && f.includes(addr)) : [];
      for (const f of files) {
        const text = fs.readFileSync(path.join(mailDir, f), 'latin1').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const m = text.match(new RegExp(page + '\\?token=([A-Za-z0-9_-]+)'));
        if (m) return m[1];
      }
      await new Promise(r => setTimeout(r, 250));
    }
    throw new Error(`prepare: no e-mail to ${addr} with a ${page} link in ${mailDir}`);
  };
  const invitee = (await invite('accept')).email;
  env['completeInvitation.bodyToken'] = await mailToken(invitee, '/accept-invitation');
  set('resendInvitation', { id: (await invite('resend')).id });
  const resetUser = (await invite('reset')).email;
  await must('POST', base + '/api/v1/auth/complete-invitation', { body: { token: await mailToken(resetUser, '/accept-invitation'), password: 'portman-first-passphrase-2026' } });
  await must('POST', base + '/api/v1/auth/forgot-password', { body: { email: resetUser } });
  env['resetPassword.bodyToken'] = await mailToken(resetUser, '/reset-password');
  const sfToken = async n => must('POST', base + '/api/v1/integrations/salesforce/tokens', { token: acme.accessToken, body: { name: 'portman ' + n } });
  set('rotateSalesforceIntegrationToken', { id: (await sfToken('rotate')).id });
  set('deleteSalesforceIntegrationToken', { id: (await sfToken('delete')).id });

  // An import job to read.
  const csv = fs.readFileSync(path.join(root, 'test', 'newman', 'files', 'cases-import.csv'));
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'cases-import.csv');
  const job = await must('POST', PUB + '/import/cases?async=true', { key: k, form });
  set('getImportJob', { jobId: job.id });
  return env;
}

// ---------------------------------------------------------------------------------------------
// 2. Generation

function resolve(s, seen = 0) {
  if (!s || seen > 20) return s || {};
  if (s.$ref) return resolve(s.$ref.split('/').slice(1).reduce((o, p) => o[p], spec), seen + 1);
  if (s.allOf) {
    const out = { properties: {}, required: [] };
    for (const part of [...s.allOf.map(p => resolve(p, seen + 1)), s]) {
      const { allOf, properties, required, ...rest } = part;
      Object.assign(out, rest);
      Object.assign(out.properties, properties || {});
      out.required.push(...(required || []));
    }
    return out;
  }
  return s;
}

function operations() {
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) {
      if (item[m]) ops.push({ id: item[m].operationId, method: m.toUpperCase(), path: p, op: item[m] });
    }
  }
  return ops;
}

const WRONG = { string: 12345, integer: 'not-a-number', number: 'not-a-number', boolean: 'not-a-boolean', array: 'not-an-array', object: 'not-an-object' };

// derivedVariations returns, per JSON body operation, a variation sending a property of the
// wrong type and one sending a value outside a property's enum (portman's fuzzing covers
// missing required fields and numeric / length bounds, not these).
function derivedVariations(tests) {
  const out = [];
  for (const o of operations()) {
    const content = o.op.requestBody && o.op.requestBody.content && o.op.requestBody.content['application/json'];
    if (!content) continue;
    const schema = resolve(content.schema);
    const props = Object.entries(schema.properties || {}).map(([n, s]) => [n, resolve(s)]);
    if (!props.length) continue;
    const req = new Set(schema.required || []);
    const typed = props.filter(([, s]) => WRONG[s.type] !== undefined && !s.readOnly);
    const pick = typed.find(([n]) => req.has(n)) || typed[0];
    const variations = [];
    if (pick) {
      variations.push({ name: `wrong type ${pick[0]}`, overwrites: [{ overwriteRequestBody: [{ key: pick[0], value: WRONG[pick[1].type], overwrite: true }] }], tests });
    }
    const en = props.find(([, s]) => s.enum || (s.items && resolve(s.items).enum));
    if (en) {
      const bad = 'portman-not-in-enum';
      const value = en[1].enum ? (en[1].type === 'integer' ? 987654 : bad) : [bad];
      variations.push({ name: `not in enum ${en[0]}`, overwrites: [{ overwriteRequestBody: [{ key: en[0], value, overwrite: true }] }], tests });
    }
    if (variations.length) out.push({ openApiOperationId: o.id, openApiResponse: '400', variations });
  }
  return out;
}

// headerTests checks the presence of every header our spec declares on an operation's success
// response (portman's headersPresent only checks headers marked required, which ours are not).
const CONDITIONAL_HEADERS = new Set(['Idempotent-Replayed', 'Retry-After']);
function headerTests() {
  const out = [];
  for (const o of operations()) {
    const code = Object.keys(o.op.responses).find(c => /^2/.test(c));
    const resp = code && resolve(o.op.responses[code]);
    const names = Object.keys((resp && resp.headers) || {}).filter(h => !CONDITIONAL_HEADERS.has(h));
    if (names.length) out.push({ openApiOperationId: o.id, responseHeaderTests: names.map(key => ({ key })) });
  }
  return out;
}

// nullableEnums returns the spec with `null` added to the enum of every `nullable: true` schema.
// Our spec keeps null out of such enums because the reference release does (adding it is an
// oasdiff break), and our validator (kin-openapi) reads `nullable` as allowing null whatever the
// enum says. The JSON Schema checker portman's tests run reads the enum literally, so the copy it
// is given spells the same meaning out.
function nullableEnums(node) {
  if (Array.isArray(node)) { node.forEach(nullableEnums); return node; }
  if (node && typeof node === 'object') {
    if (node.nullable === true && Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
    Object.values(node).forEach(nullableEnums);
  }
  return node;
}

function generate() {
  const cfg = JSON.parse(fs.readFileSync(path.join(here, 'portman-config.json'), 'utf8'));
  // The first variation (portman's fuzzing) carries the tests every variation runs: 400, JSON
  // error envelope, validation_error. Variations written by hand in the config get them too.
  const fuzz = cfg.tests.variationTests[0].variations[0];
  for (const vt of cfg.tests.variationTests) for (const v of vt.variations) v.tests = v.tests || fuzz.tests;
  cfg.tests.variationTests.push(...derivedVariations(fuzz.tests));
  cfg.tests.contentTests = (cfg.tests.contentTests || []).concat(headerTests());
  const cfgFile = path.join(workDir, 'portman-config.json');
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  const out = path.join(workDir, 'collection.json');
  const portmanSpec = path.join(workDir, 'openapi.json');
  fs.writeFileSync(portmanSpec, JSON.stringify(nullableEnums(yaml.load(fs.readFileSync(specFile, 'utf8')))));
  execFileSync(path.join(root, 'node_modules', '.bin', 'portman'), [
    '-l', portmanSpec, '-c', cfgFile, '-s', path.join(here, 'postman-config.json'), '-o', out, '-b', '{{baseUrl}}',
    '--logAssignVariables', 'false', '--warn', 'false',
  ], { cwd: workDir, stdio: opt.verbose ? 'inherit' : 'pipe' });
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

// opIndex maps "METHOD /path/:param" (the collection's form) to the spec's operationId.
const opIndex = new Map(operations().map(o => [`${o.method} ${o.path.replace(/\{(\w+)\}/g, ':$1')}`, o.id]));
function opOf(item) {
  return opIndex.get(`${item.request.method} /${item.request.url.path.join('/')}`);
}

const FILES = { uploadDocument: 'referral-summary.pdf', importCases: 'cases-import.csv', importCasesUpdate: 'cases-update.csv' };
const excludedIds = new Set(excluded.map(e => e.operationId));

// prune drops excluded operations, gives the multipart requests their sample file and records
// which items are variations.
function prune(collection) {
  const variations = new Set();
  const mainBodies = new Map();
  let dropped = 0;
  const bodyOf = it => {
    const raw = it.request.body && it.request.body.mode === 'raw' ? it.request.body.raw : '';
    try { return JSON.stringify(JSON.parse(raw)); } catch { return raw; }
  };
  const collect = items => items.forEach(it => {
    if (it.item) { if (it.name !== 'Variation Tests') collect(it.item); return; }
    mainBodies.set(opOf(it), bodyOf(it));
  });
  collect(collection.item);
  const visit = (items, inVariations) => items.filter(it => {
    if (it.item) {
      it.item = visit(it.item, inVariations || it.name === 'Variation Tests');
      return it.item.length > 0;
    }
    const op = opOf(it);
    if (!op) throw new Error('no operation for ' + it.request.method + ' ' + it.request.url.path.join('/'));
    if (excludedIds.has(op)) return false;
    if (inVariations) {
      // Portman fuzzes every property of the schema, also those its example body leaves out:
      // removing or lengthening an absent property sends the example unchanged, which the
      // server rightly accepts. Such a variation varies nothing: drop it.
      if (bodyOf(it) === mainBodies.get(op)) { dropped++; return false; }
      variations.add(it.id);
    }
    const body = it.request.body;
    if (FILES[op] && body && body.mode === 'formdata') {
      for (const part of body.formdata) {
        if (part.type === 'file') part.src = path.join(root, 'test', 'newman', 'files', FILES[op]);
      }
    }
    return true;
  });
  collection.item = visit(collection.item, false);
  if (opt.verbose) console.log(`dropped ${dropped} variations that send the example body unchanged`);
  return variations;
}

// ---------------------------------------------------------------------------------------------
// 3. Run

// schemaErrors splits the message of a failed "Schema is valid" assertion into its errors.
function schemaErrors(message) {
  const i = message.indexOf('errors:');
  if (i < 0) return [message];
  return message.slice(i + 7).trim().split(/, (?=data)/).map(s => s.trim()).filter(Boolean);
}

function run(collection, env) {
  return new Promise((resolve, reject) => newman.run({
    collection,
    environment: { values: Object.entries(env).map(([key, value]) => ({ key, value, enabled: true })) },
    reporters: [],
    timeoutRequest: 30000,
  }, (err, summary) => (err ? reject(err) : resolve(summary))));
}

(async () => {
  const t0 = Date.now();
  const env = await prepare();
  const t1 = Date.now();
  const collection = opt.collection ? JSON.parse(fs.readFileSync(opt.collection, 'utf8')) : generate();
  const t2 = Date.now();
  const variations = prune(collection);
  const summary = await run(collection, env);
  const t3 = Date.now();

  let requests = 0, assertions = 0, failed = 0, allowed = 0, varCount = 0;
  const problems = [];
  const usedKnown = new Set();
  for (const ex of summary.run.executions) {
    requests++;
    const op = opOf(ex.item);
    const isVar = variations.has(ex.item.id);
    if (isVar) varCount++;
    const code = ex.response ? ex.response.code : 0;
    if (!ex.response) {
      failed++;
      problems.push(`${op} :: ${ex.item.name} :: no response`);
    }
    const bad = [];
    for (const as of ex.assertions || []) {
      assertions++;
      if (!as.error) continue;
      const entry = known.find(k => (k.operationId === op || k.operationId === '*') && (k.variation === undefined || k.variation === isVar) &&
        (!k.item || ex.item.name.includes(k.item)) && (!k.assertion || as.assertion.includes(k.assertion)) &&
        (!k.status || k.status === code) && (!k.errors || schemaErrors(as.error.message).every(e => new RegExp(k.errors).test(e))));
      if (entry) { allowed++; usedKnown.add(entry); continue; }
      failed++;
      bad.push(as.assertion.replace(/^\[\w+\]::\S+ - /, '') + (opt.verbose ? ' (' + as.error.message.split('\n').join(' ').slice(0, 160) + ')' : ''));
    }
    if (bad.length) {
      let detail = '';
      if (opt.verbose) {
        const req = ex.request.body && ex.request.body.raw ? ex.request.body.raw.replace(/\s+/g, ' ').slice(0, 400) : '';
        const res = ex.response ? ex.response.stream.toString().slice(0, 400) : '';
        detail = `\n    request: ${ex.request.method} ${ex.request.url.getPath()} ${req}\n    response: ${res}`;
      }
      problems.push(`${op} :: ${ex.item.name} :: HTTP ${code} :: ${bad.join('; ')}${detail}`);
    }
  }
  // Every operation of the spec but the excluded ones must have run its contract tests.
  const tested = new Set(summary.run.executions.filter(ex => !variations.has(ex.item.id) && (ex.assertions || []).length)
    .map(ex => opOf(ex.item)));
  for (const o of operations()) {
    if (!excludedIds.has(o.id) && !tested.has(o.id)) {
      failed++;
      problems.push(`${o.id} :: no contract test ran`);
    }
  }
  for (const p of problems) console.log('FAILED ' + p);
  for (const k of known) if (!usedKnown.has(k)) console.log(`note: known failure no longer seen: ${k.operationId} ${k.item || ''} ${k.assertion || ''}`);
  if (opt.verbose) console.log(`time: prepare ${(t1 - t0) / 1000}s, generate ${(t2 - t1) / 1000}s, newman ${(t3 - t2) / 1000}s`);
  if (allowed) console.log(`known: ${allowed} failed assertions are listed in known-failures.json`);
  const line = `portman: ${requests} requests, ${assertions} assertions, ${failed} failed (${varCount} variation tests)`;
  console.log(line);
  if (process.env.CX_TEST_SUMMARY) fs.appendFileSync(process.env.CX_TEST_SUMMARY, line + '\n');
  if (!opt.keep) fs.rmSync(workDir, { recursive: true, force: true });
  else console.log('kept ' + workDir);
  process.exit(failed > 0 ? 1 : 0);
})().catch(e => { console.error('portman: ' + (e.stack || e.message)); process.exit(1); });
