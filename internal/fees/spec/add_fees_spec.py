"""Adds the fee agreements and the fee ledger (issue 19) to api-reference/openapi.yml: the tag,
the paths (inserted before the documents paths), the schemas (appended to components.schemas)
and the fee webhook event types. Re-runnable: a piece already present is left alone. Afterwards
run `make generate`. Usage: python3 internal/fees/spec/add_fees_spec.py api-reference/openapi.yml
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
Dumper.ignore_aliases = lambda self, data: True

P = '/api/public/v1'
R = lambda n: {'$ref': '#/components/responses/' + n}
S = lambda n: {'$ref': '#/components/schemas/' + n}
H = lambda n: {'$ref': '#/components/headers/' + n}
HEADERS = {'X-Request-Id': H('X-Request-Id'), 'X-RateLimit-Limit': H('X-RateLimit-Limit'),
           'X-RateLimit-Remaining': H('X-RateLimit-Remaining'), 'X-RateLimit-Reset': H('X-RateLimit-Reset')}

REF_ID = {'name': 'id', 'in': 'path', 'required': True, 'schema': {'type': 'string'},
          'description': 'The referral: its UUID or its reference number (e.g. `CX-7KD2Q-R1`). The UUID, '
                         'reference number or CMS / Salesforce id of its case is accepted too and selects the '
                         'newest referral of that case to which the caller\'s firm is a party.'}
CASE_ID = {'name': 'baseCaseId', 'in': 'path', 'required': True, 'schema': {'type': 'string'},
           'description': 'The case the referral belongs to: its UUID, reference number or CMS / Salesforce id.'}
ENTRY_ID = {'name': 'entryId', 'in': 'path', 'required': True, 'schema': {'type': 'string', 'format': 'uuid'},
            'description': 'The ledger entry.'}
VERSION = {'name': 'version', 'in': 'path', 'required': True,
           'schema': {'type': 'integer', 'minimum': 1, 'maximum': 10000},
           'description': 'The version number (1 for the first proposal).'}

NOT_PARTY = ('`404 resource_not_found` when the referral does not exist or your firm is neither its '
             'referring nor its receiving firm (a receiving firm never sees drafts).')


def errors(extra=None, body=True):
    r = {'400': R('BadRequest'), '401': R('Unauthorized'), '403': R('Forbidden'), '404': R('NotFound'),
         '429': R('RateLimited'), '500': R('InternalError'), 'default': R('ServiceUnavailable')}
    if extra:
        r.update(extra)
    return r


def ok(desc, schema):
    return {'200': {'description': desc, 'content': {'application/json': {'schema': S(schema)}}, 'headers': dict(HEADERS)}}


def op(opid, summary, desc, tier, params, resp, body=None, errs=None):
    o = {'operationId': opid, 'tags': ['Fees'], 'summary': summary, 'description': desc, 'x-access-tier': tier,
         'parameters': params, 'responses': {**resp, **errors(errs)}, 'security': [{'apiKeyAuth': []}]}
    if body:
        o['requestBody'] = {'required': True, 'content': {'application/json': {'schema': S(body)}}}
    return o


AGREEMENT_GET_DESC = ('Returns the referral\'s fee agreement: every version (who proposed and who accepted it, and '
                      'when), the recorded client consents, the jurisdiction rule profile that applies (the case\'s '
                      'jurisdiction, else `US-ABA`) and the computed `compliance`. A referral without a proposal '
                      'answers with empty `versions` and `compliance.status` `needs_acceptance`. Both firms of the '
                      'referral may read it. ' + NOT_PARTY)

PATHS = {
    P + '/fee-rule-profiles': {'get': op(
        'listFeeRuleProfiles', 'List the jurisdiction rule profiles',
        'The rules a fee division between firms is checked against, per jurisdiction. `US-ABA` (ABA Model Rule '
        '1.5(e)) applies to every jurisdiction without a profile of its own. The profiles are data, the same for '
        'every firm.', 'read_only', [], ok('Every profile, `US-ABA` first.', 'FeeRuleProfileListResponse'))},
    P + '/referrals/{id}/fee-agreement': {'get': op(
        'getReferralFeeAgreement', 'Get the fee agreement of a referral', AGREEMENT_GET_DESC, 'read_only', [REF_ID],
        ok('The fee agreement.', 'FeeAgreementResponse'))},
    P + '/cases/{baseCaseId}/referrals/{id}/fee-agreement': {'get': op(
        'getCaseReferralFeeAgreement', 'Get the fee agreement of a case\'s referral',
        AGREEMENT_GET_DESC + '\n\nSame operation as `getReferralFeeAgreement` on '
        '`/api/public/v1/referrals/{id}/fee-agreement`; the two paths differ only in how the referral is named.',
        'read_only', [CASE_ID, REF_ID], ok('The fee agreement.', 'FeeAgreementResponse'))},
    P + '/referrals/{id}/fee-agreement/versions': {'post': op(
        'proposeReferralFeeAgreement', 'Propose or amend the fee agreement',
        'Records the next version of the agreement, proposed by your firm: the first proposal, a '
        'counter-proposal to a pending version, or an amendment of accepted terms. Either firm may propose. The '
        'new version must be accepted by the other firm; until then the accepted version (if any) stays in '
        'force and the earlier pending version is replaced. Changing the basis or the shares also needs the '
        'client\'s consent again (`compliance.status` becomes `terms_changed_since_consent` once accepted). '
        'Event: `fee_agreement.proposed` for version 1, `fee_agreement.amended` after.\n\n'
        'Give the shares of the attorney fee either as two percentages adding up to exactly 100 (two decimals '
        'at most) or as two fixed amounts. Under a profile whose `totalFeeMayChange` is false (California), an '
        'amendment may not raise `clientContingencyPercentage` above the version in force.\n\n'
        'Errors: `400 validation_error` (details name the field); ' + NOT_PARTY + ' `400 '
        'invalid_state_transition` when the referral is a draft, rejected or withdrawn.', 'standard', [REF_ID],
        ok('The agreement with the new version.', 'FeeAgreementResponse'), body='ProposeFeeAgreementBody')},
    P + '/referrals/{id}/fee-agreement/versions/{version}/accept': {'post': op(
        'acceptReferralFeeAgreement', 'Accept a version of the fee agreement',
        'The firm that did not propose the version accepts it; its terms are then immutable and in force, and '
        'the referral\'s `clientFeeAgreementPercentage` and `sendingFirmPercentage` show them. A ledger entry '
        'waiting for an agreement becomes `due`. Event: `fee_agreement.accepted`.\n\nErrors: ' + NOT_PARTY +
        ' `404` also for a version number the agreement does not have; `403 permission_denied` when your firm '
        'proposed it; `400 invalid_state_transition` when it is accepted already or a later version replaced '
        'it; `409 conflict` when a concurrent change won.', 'standard', [REF_ID, VERSION],
        ok('The agreement after acceptance.', 'FeeAgreementResponse'), errs={'409': R('Conflict')})},
    P + '/referrals/{id}/fee-agreement/consents': {'post': op(
        'recordReferralFeeConsent', 'Record the client\'s consent',
        'Records the client\'s consent to the division of the newest version (either firm may record it). '
        '`documentId`, when given, must be a document of the referral\'s case that your firm can see (its own '
        'upload or a shared one). Event: `fee_consent.recorded`.\n\nErrors: `400 validation_error` (including '
        'an unknown or invisible document and a date in the future); ' + NOT_PARTY + ' `400 '
        'invalid_state_transition` when no version has been proposed.', 'standard', [REF_ID],
        ok('The agreement with the consent.', 'FeeAgreementResponse'), body='RecordFeeConsentBody')},
    P + '/fees/ledger': {'get': op(
        'listFeeLedger', 'List fee ledger entries',
        'One side of your firm\'s fee ledger: `owed_to_me` (referrals your firm sent: fees due to you) or '
        '`i_owe` (referrals your firm received: fees you owe), ordered by due date, then id; entries waiting for '
        'an agreement (no due date) come last. Filters combine. `aging` keeps outstanding entries (`due`, '
        '`partially_paid`, `disputed`) by days past due as of today (UTC): `current` (not yet late), `1_30`, '
        '`31_60`, `61_90`, `over_90`. Each side, filtered or not, is an index range of the firm by due date.',
        'read_only', [
            {'name': 'direction', 'in': 'query', 'schema': {'type': 'string', 'enum': ['owed_to_me', 'i_owe'], 'default': 'owed_to_me'},
             'description': 'Which side of the ledger.'},
            {'name': 'status', 'in': 'query', 'schema': S('FeeLedgerStatus'), 'description': 'Only entries in this status.'},
            {'name': 'partnerFirmId', 'in': 'query', 'schema': {'type': 'string', 'format': 'uuid'},
             'description': 'Only entries with this firm on the other side.'},
            {'name': 'dueFrom', 'in': 'query', 'schema': {'type': 'string', 'format': 'date'}, 'description': 'Due on or after this date.'},
            {'name': 'dueTo', 'in': 'query', 'schema': {'type': 'string', 'format': 'date'}, 'description': 'Due on or before this date.'},
            {'name': 'aging', 'in': 'query', 'schema': S('FeeAgingBucket'), 'description': 'Only outstanding entries in this aging bucket.'},
            {'$ref': '#/components/parameters/Page'}, {'$ref': '#/components/parameters/Limit'}],
        ok('A page of entries.', 'FeeLedgerListResponse'))},
    P + '/fees/ledger/{entryId}': {'get': op(
        'getFeeLedgerEntry', 'Get a fee ledger entry',
        'One entry with its payments. `404 resource_not_found` unless your firm is its referring or receiving firm.',
        'read_only', [ENTRY_ID], ok('The entry.', 'FeeLedgerEntryResponse'))},
    P + '/fees/ledger/{entryId}/payments': {'post': op(
        'recordFeePayment', 'Record a payment',
        'Records a payment on an entry that is `due`, `partially_paid` or `disputed`; either firm may (the payer '
        'or the payee). The entry becomes `partially_paid`, or `paid` when nothing is left (a disputed entry '
        'stays `disputed` until paid in full). A payment may not exceed the outstanding amount. Events: '
        '`fee.payment_recorded`, and `fee.paid` when paid in full.\n\nErrors: `400 validation_error`; `404` '
        'unless your firm is a party; `400 invalid_state_transition` for an entry waiting for an agreement, paid '
        'or written off.', 'standard', [ENTRY_ID], ok('The entry after the payment.', 'FeeLedgerEntryResponse'),
        body='RecordFeePaymentBody')},
    P + '/fees/ledger/{entryId}/dispute': {'post': op(
        'disputeFeeLedgerEntry', 'Dispute an entry',
        'The receiving firm (which owes the fee) marks a `due` or `partially_paid` entry `disputed`, with a '
        'reason.\n\nErrors: `400 validation_error`; `404` unless your firm is a party; `403 permission_denied` '
        'for the referring firm; `400 invalid_state_transition` from any other status.', 'standard', [ENTRY_ID],
        ok('The disputed entry.', 'FeeLedgerEntryResponse'), body='DisputeFeeEntryBody')},
    P + '/fees/ledger/{entryId}/write-off': {'post': op(
        'writeOffFeeLedgerEntry', 'Write an entry off',
        'The receiving firm marks an entry that is not paid `written_off`: nothing more is expected on it (its '
        '`amountOutstanding` becomes 0.00). Needs a `full` key.\n\nErrors: `400 validation_error`; `404` unless '
        'your firm is a party; `403 permission_denied` for the referring firm; `400 invalid_state_transition` '
        'for a paid or written-off entry, or one waiting for an agreement.', 'full', [ENTRY_ID], ok('The written-off entry.', 'FeeLedgerEntryResponse'),
        body='WriteOffFeeEntryBody')},
}

AMOUNT = {'type': 'string', 'pattern': r'^[0-9]{1,12}(\.[0-9]{1,2})?$', 'maxLength': 15,
          'description': 'A decimal amount in the firm\'s currency, at most 12 digits before the point and 2 after '
                         '(exact: kept in integer cents).', 'example': '1250.00'}
DATE = {'type': 'string', 'format': 'date'}
TS = {'type': 'string', 'format': 'date-time'}
UUID = {'type': 'string', 'format': 'uuid'}


def nullable(s, desc=None):
    s = dict(s)
    s['nullable'] = True
    if desc:
        s['description'] = desc
    return s


def obj(props, desc=None, required=None):
    o = {'type': 'object', 'required': required if required is not None else list(props), 'properties': props}
    if desc:
        o['description'] = desc
    return o


def env(data):
    return obj({'data': data, 'meta': S('ResponseMeta')})


PCT = {'type': 'number', 'format': 'double', 'minimum': 0, 'maximum': 100,
       'description': 'A percentage between 0 and 100 with at most two decimals.'}

SCHEMAS = {
    'FeeRuleProfile': obj({
        'code': {'type': 'string', 'description': 'A two-letter jurisdiction code, or `US-ABA` for the default (ABA Model Rule 1.5(e)).'},
        'name': {'type': 'string', 'description': 'The rule the profile models.'},
        'consentMethod': {'type': 'string', 'enum': ['written', 'signed'],
                          'description': 'What the client\'s consent must be: confirmed in writing (`written`), or a writing the client signed (`signed`). A `signed` consent satisfies a `written` profile, not the reverse.'},
        'consentDeadlineDays': {'type': 'integer', 'nullable': True,
                                'description': 'Days after the referral was sent within which the client must consent; a later consent makes the status `consent_late`. Null: no fixed deadline (the ABA\'s "reasonable time" is left to the firms).'},
        'basisRequired': {'type': 'boolean', 'description': 'Whether the agreement must state its basis (every agreement here states one).'},
        'totalFeeMayChange': {'type': 'boolean', 'description': 'Whether an amendment may raise the client\'s contingency percentage; false where the division may not increase the total fee.'},
        'summary': {'type': 'string', 'description': 'The rule in a few sentences, in our words.'},
    }, 'A jurisdiction rule profile for dividing a fee between firms.'),
    'FeeRuleProfileListResponse': env({'type': 'array', 'items': S('FeeRuleProfile')}),
    'FeeAgreementVersion': obj({
        'version': {'type': 'integer', 'description': 'Version number, 1 for the first proposal.'},
        'id': UUID,
        'status': {'type': 'string', 'enum': ['proposed', 'accepted', 'superseded'],
                   'description': '`proposed`: waiting for the other firm; `accepted`: accepted (the newest accepted version is in force); `superseded`: replaced by a later version before or after acceptance.'},
        'basis': S('FeeBasis'),
        'shareKind': {'type': 'string', 'enum': ['percentage', 'fixed'], 'description': 'Whether the shares are percentages of the attorney fee or fixed amounts.'},
        'referringFirmShare': {'type': 'string', 'description': 'The referring firm\'s share: a percentage (e.g. `33.33`) or an amount (e.g. `1500.00`), by `shareKind`.'},
        'receivingFirmShare': {'type': 'string', 'description': 'The receiving firm\'s share, in the same unit.'},
        'clientContingencyPercentage': {'type': 'string', 'description': 'The client\'s contingency fee as a percentage of the recovery (e.g. `33.33`).'},
        'notes': {'type': 'string', 'nullable': True},
        'proposedByFirmId': UUID,
        'proposedAt': TS,
        'acceptedByFirmId': nullable(UUID),
        'acceptedAt': nullable(TS),
        'supersededAt': nullable(TS),
    }, 'One version of a fee agreement. Accepted terms never change: an amendment is a new version.'),
    'FeeBasis': {'type': 'string', 'enum': ['proportional', 'joint_responsibility'],
                 'description': 'Why the firms may divide the fee: in proportion to the work each does, or because each takes joint responsibility for the representation.'},
    'FeeConsent': obj({
        'id': UUID,
        'version': {'type': 'integer', 'description': 'The version the consent covers (the newest when it was recorded).'},
        'consentedOn': DATE,
        'method': {'type': 'string', 'enum': ['written', 'signed']},
        'signerName': {'type': 'string'},
        'documentId': nullable(UUID, 'A document of the case holding the consent.'),
        'recordedByFirmId': UUID,
        'recordedAt': TS,
    }, 'A recorded client consent to the division.'),
    'FeeCompliance': obj({
        'status': {'type': 'string', 'enum': ['compliant', 'needs_acceptance', 'needs_client_consent', 'consent_late', 'terms_changed_since_consent'],
                   'description': 'The first unmet requirement: `needs_acceptance` (no version, or the newest is not accepted); `needs_client_consent` (no consent, or a consent that is not signed under a profile asking for a signature); `terms_changed_since_consent` (the basis or shares in force differ from those the client consented to); `consent_late` (consented after the profile\'s deadline); `compliant` otherwise. An aid for the firms, not legal advice.'},
        'profile': {'type': 'string', 'description': 'Code of the rule profile applied.'},
        'reasons': {'type': 'array', 'items': {'type': 'string'}, 'description': 'Plain-language explanation of the status.'},
    }, 'The agreement checked against its rule profile.'),
    'FeeAgreement': obj({
        'referralId': UUID,
        'referenceNumber': {'type': 'string'},
        'referringFirmId': UUID,
        'receivingFirmId': nullable(UUID),
        'profile': S('FeeRuleProfile'),
        'inForceVersion': {'type': 'integer', 'nullable': True, 'description': 'The newest accepted version; null before any acceptance.'},
        'versions': {'type': 'array', 'items': S('FeeAgreementVersion'), 'description': 'Every version, oldest first.'},
        'consents': {'type': 'array', 'items': S('FeeConsent'), 'description': 'Every recorded consent, oldest first.'},
        'compliance': S('FeeCompliance'),
    }, 'The fee agreement of a referral and its history.'),
    'FeeAgreementResponse': env(S('FeeAgreement')),
    'ProposeFeeAgreementBody': {
        'type': 'object', 'required': ['basis', 'clientContingencyPercentage'], 'additionalProperties': False,
        'description': 'Give the shares as `referringFirmPercentage` and `receivingFirmPercentage` (adding up to 100), or as `referringFirmAmount` and `receivingFirmAmount`.',
        'properties': {
            'basis': S('FeeBasis'),
            'referringFirmPercentage': PCT, 'receivingFirmPercentage': PCT,
            'referringFirmAmount': AMOUNT, 'receivingFirmAmount': AMOUNT,
            'clientContingencyPercentage': PCT,
            'notes': {'type': 'string', 'maxLength': 2000},
        },
        'example': {'basis': 'proportional', 'referringFirmPercentage': 33.33, 'receivingFirmPercentage': 66.67,
                    'clientContingencyPercentage': 33.33, 'notes': 'One third to the referring firm.'}},
    'RecordFeeConsentBody': {
        'type': 'object', 'required': ['consentedOn', 'method', 'signerName'], 'additionalProperties': False,
        'properties': {
            'consentedOn': {'type': 'string', 'format': 'date', 'description': 'The date the client consented; not in the future.'},
            'method': {'type': 'string', 'enum': ['written', 'signed']},
            'signerName': {'type': 'string', 'minLength': 1, 'maxLength': 200},
            'documentId': {'type': 'string', 'format': 'uuid', 'description': 'A document of the referral\'s case visible to your firm.'},
        },
        'example': {'consentedOn': '2026-04-03', 'method': 'signed', 'signerName': 'Marcus Delgado'}},
    'FeeLedgerStatus': {'type': 'string', 'enum': ['needs_agreement', 'due', 'partially_paid', 'paid', 'disputed', 'written_off'],
                        'description': '`needs_agreement`: closed won without an accepted agreement (no amount yet); `due`; `partially_paid`; `paid`; `disputed` (by the receiving firm); `written_off`.'},
    'FeeAgingBucket': {'type': 'string', 'enum': ['current', '1_30', '31_60', '61_90', 'over_90'],
                       'description': 'Days past the due date of an outstanding entry: `current` (not late), 1-30, 31-60, 61-90, over 90.'},
    'FeePayment': obj({
        'id': UUID, 'amount': {'type': 'string'}, 'paidOn': DATE,
        'method': {'type': 'string', 'enum': ['check', 'wire', 'ach', 'other']},
        'reference': {'type': 'string', 'nullable': True}, 'recordedByFirmId': UUID, 'createdAt': TS,
    }, 'A payment recorded on a ledger entry.'),
    'FeeLedgerEntry': obj({
        'id': UUID, 'referralId': UUID, 'baseCaseId': UUID, 'referenceNumber': {'type': 'string'},
        'referringFirmId': UUID, 'referringFirmName': {'type': 'string'},
        'receivingFirmId': UUID, 'receivingFirmName': {'type': 'string'},
        'agreementVersionId': nullable(UUID, 'The agreement version the amount was computed from.'),
        'status': S('FeeLedgerStatus'),
        'attorneyFees': {'type': 'string', 'description': 'The attorney fees recorded at closing (rounded half-up to the cent).'},
        'amountDue': {'type': 'string', 'nullable': True,
                      'description': 'The referring firm\'s share: for percentage shares, the fee divided so that the two shares add up to it exactly (each rounded down to the cent, the cent left over to the larger remainder, the referring firm first on a tie, which equals rounding its share half-up); for fixed shares, the agreed amount (at most the fee). Null while `needs_agreement`.'},
        'amountPaid': {'type': 'string'},
        'amountOutstanding': {'type': 'string', 'nullable': True, 'description': 'Due minus paid; 0.00 once written off.'},
        'closedOn': DATE,
        'dueDate': nullable(DATE, 'The closing date plus the server\'s net terms (30 days unless configured).'),
        'agingBucket': {'type': 'string', 'nullable': True, 'enum': ['current', '1_30', '31_60', '61_90', 'over_90'],
                        'description': 'Days past due of an outstanding entry (see `FeeAgingBucket`); null for entries that are paid, written off or waiting for an agreement.'},
        'disputeReason': {'type': 'string', 'nullable': True},
        'writtenOffReason': {'type': 'string', 'nullable': True},
        'payments': {'type': 'array', 'items': S('FeePayment')},
        'createdAt': TS, 'updatedAt': TS,
    }, 'What the receiving firm of a referral closed won owes its referring firm.'),
    'FeeLedgerEntryResponse': env(S('FeeLedgerEntry')),
    'FeeLedgerListResponse': obj({'data': {'type': 'array', 'items': S('FeeLedgerEntry')}, 'pagination': S('Pagination'), 'meta': S('ResponseMeta')}),
    'RecordFeePaymentBody': {
        'type': 'object', 'required': ['amount', 'paidOn', 'method'], 'additionalProperties': False,
        'properties': {'amount': AMOUNT, 'paidOn': {'type': 'string', 'format': 'date', 'description': 'Not in the future.'},
                       'method': {'type': 'string', 'enum': ['check', 'wire', 'ach', 'other']},
                       'reference': {'type': 'string', 'maxLength': 200, 'description': 'Check number, wire reference or similar.'}},
        'example': {'amount': '100.00', 'paidOn': '2026-04-30', 'method': 'wire', 'reference': 'WIRE-20260430-7'}},
    'DisputeFeeEntryBody': {
        'type': 'object', 'required': ['reason'], 'additionalProperties': False,
        'properties': {'reason': {'type': 'string', 'minLength': 1, 'maxLength': 2000}},
        'example': {'reason': 'The settlement funds have not cleared.'}},
    'WriteOffFeeEntryBody': {
        'type': 'object', 'additionalProperties': False,
        'properties': {'reason': {'type': 'string', 'maxLength': 2000}},
        'example': {'reason': 'Uncollectible after the client\'s bankruptcy.'}},
    'FeeAgreementEventData': obj({
        'referralId': UUID, 'version': {'type': 'integer'}, 'versionId': UUID, 'basis': S('FeeBasis'),
        'shareKind': {'type': 'string', 'enum': ['percentage', 'fixed']},
        'referringFirmShare': {'type': 'string'}, 'receivingFirmShare': {'type': 'string'},
        'clientContingencyPercentage': {'type': 'string'}, 'proposedByFirmId': UUID, 'proposedAt': TS,
        'acceptedByFirmId': nullable(UUID), 'acceptedAt': nullable(TS),
        'complianceStatus': {'type': 'string', 'description': 'FeeCompliance.status after the change.'},
        'profile': {'type': 'string'},
        'consent': {'type': 'object', 'description': 'Only on `fee_consent.recorded`.',
                    'required': ['id', 'consentedOn', 'method', 'signerName', 'documentId', 'recordedByFirmId'],
                    'properties': {'id': UUID, 'consentedOn': DATE, 'method': {'type': 'string', 'enum': ['written', 'signed']},
                                   'signerName': {'type': 'string'}, 'documentId': nullable(UUID), 'recordedByFirmId': UUID}},
    }, 'The `data` of `fee_agreement.proposed`, `fee_agreement.amended`, `fee_agreement.accepted` and `fee_consent.recorded`: the version concerned.',
        required=['referralId', 'version', 'versionId', 'basis', 'shareKind', 'referringFirmShare', 'receivingFirmShare',
                  'clientContingencyPercentage', 'proposedByFirmId', 'proposedAt', 'acceptedByFirmId', 'acceptedAt',
                  'complianceStatus', 'profile']),
    'FeeLedgerEventData': obj({
        'entryId': UUID, 'referralId': UUID, 'status': S('FeeLedgerStatus'), 'attorneyFees': {'type': 'string'},
        'amountDue': {'type': 'string', 'nullable': True}, 'amountPaid': {'type': 'string'},
        'amountOutstanding': {'type': 'string', 'nullable': True}, 'dueDate': nullable(DATE),
        'payment': {'type': 'object', 'description': 'Only on `fee.payment_recorded` (and `fee.paid`): the payment.',
                    'required': ['id', 'amount', 'paidOn', 'method', 'reference'],
                    'properties': {'id': UUID, 'amount': {'type': 'string'}, 'paidOn': DATE,
                                   'method': {'type': 'string'}, 'reference': {'type': 'string', 'nullable': True}}},
    }, 'The `data` of `fee.due`, `fee.payment_recorded` and `fee.paid`: the ledger entry after the change.',
        required=['entryId', 'referralId', 'status', 'attorneyFees', 'amountDue', 'amountPaid', 'amountOutstanding', 'dueDate']),
}

TAG = '''- name: Fees
  description: |
    Fee agreements between the two firms of a referral (versioned: proposed by one firm, accepted
    by the other), the client's consent, a compliance check against jurisdiction rule profiles (an
    aid, not legal advice), and the fee ledger of referrals closed won, with payments. Amounts
    are decimal strings kept in exact cents. Both firms of a referral receive the fee events
    (`fee_agreement.*`, `fee_consent.recorded`, `fee.*`). See docs/fees.md.
'''

EVENTS = ['fee_agreement.proposed', 'fee_agreement.accepted', 'fee_agreement.amended', 'fee_consent.recorded',
          'fee.due', 'fee.payment_recorded', 'fee.paid']


def dump(v, indent):
    text = yaml.dump(v, Dumper=Dumper, sort_keys=False, width=110, allow_unicode=True)
    return ''.join((' ' * indent + l if l.strip() else l) for l in text.splitlines(True))


def main(path):
    s = open(path).read()
    if '\n- name: Fees\n' not in s:
        s = s.replace('\n- name: Webhooks\n', '\n' + TAG + '- name: Webhooks\n', 1)
    missing = {k: v for k, v in PATHS.items() if '\n  ' + k + ':\n' not in s}
    if missing:
        anchor = '\n  ' + P + '/cases/{caseId}/documents:\n'
        assert anchor in s
        s = s.replace(anchor, '\n' + dump(missing, 2) + anchor[1:], 1)
    sm = {k: v for k, v in SCHEMAS.items() if '\n    ' + k + ':\n' not in s}
    if sm:
        anchor = '\n  responses:\n    NoContent:\n'
        assert anchor in s
        s = s.replace(anchor, '\n' + dump(sm, 4) + anchor[1:], 1)
    enum_anchor = '      - document.deleted\n      example: case.status_changed\n'
    if 'fee_agreement.proposed' not in s.split(enum_anchor)[0][-2000:] and enum_anchor in s:
        s = s.replace(enum_anchor, '      - document.deleted\n' + ''.join('      - %s\n' % e for e in EVENTS) +
                      '      example: case.status_changed\n', 1)
    old = "for `note.*`; `DocumentData` for `document.uploaded`; `DocumentTombstone` for `document.deleted`.'"
    if old in s:
        s = s.replace(old, "for `note.*`; `DocumentData` for `document.uploaded`; `DocumentTombstone` for `document.deleted`;\n"
                      "            `FeeAgreementEventData` for `fee_agreement.*` and `fee_consent.recorded`; `FeeLedgerEventData`\n"
                      "            for `fee.*` (these go to both firms and are never masked).'", 1)
    open(path, 'w').write(s)


main(sys.argv[1])
