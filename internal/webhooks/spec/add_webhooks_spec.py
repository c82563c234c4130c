"""Adds the firm webhooks (issue 9) to api-reference/openapi.yml: the subscription, delivery and
echo-mode operations, the echo receiver, and the schemas documenting what receivers get.

Re-runnable: paths, parameters, schemas and the tag are added only when missing; nothing that
exists is changed. Afterwards run internal/idempotency/annotate_spec.py and `make generate`.
Usage: python3 internal/webhooks/spec/add_webhooks_spec.py api-reference/openapi.yml
"""
import copy
import json
import sys
import textwrap

import yaml


class Dumper(yaml.SafeDumper):
    pass


def _str(dumper, data):
    if '\n' in data:
        return dumper.represent_scalar('tag:yaml.org,2002:str', data, style='|')
    return dumper.represent_scalar('tag:yaml.org,2002:str', data)


Dumper.add_representer(str, _str)

P = '/api/public/v1/webhooks'


def ref(kind, name):
    return {'$ref': '#/components/%s/%s' % (kind, name)}


def schema(name):
    return ref('schemas', name)


RATE = {
    'X-Request-Id': ref('headers', 'X-Request-Id'),
    'X-RateLimit-Limit': ref('headers', 'X-RateLimit-Limit'),
    'X-RateLimit-Remaining': ref('headers', 'X-RateLimit-Remaining'),
    'X-RateLimit-Reset': ref('headers', 'X-RateLimit-Reset'),
}
REQ_ID = {'X-Request-Id': ref('headers', 'X-Request-Id')}


def ok(desc, name, headers=RATE):
    return {'description': desc, 'content': {'application/json': {'schema': schema(name)}},
            'headers': copy.deepcopy(headers)}


def err(desc, headers=RATE):
    return {'description': desc, 'content': {'application/json': {'schema': schema('Error')}},
            'headers': copy.deepcopy(headers)}


def common(extra):
    out = dict(extra)
    out.update({
        '401': ref('responses', 'Unauthorized'),
        '403': ref('responses', 'Forbidden'),
        '429': ref('responses', 'RateLimited'),
        '500': ref('responses', 'InternalError'),
        'default': ref('responses', 'ServiceUnavailable'),
    })
    return out


NOT_FOUND = 'Your firm has no webhook subscription with this id (`resource_not_found`).'
BAD_ID = 'The id is not a UUID (`validation_error`).'


def op(op_id, summary, desc, tier, responses, params=None, body=None):
    o = {
        'operationId': op_id,
        'tags': ['Webhooks'],
        'summary': summary,
        'description': desc,
        'x-access-tier': tier,
    }
    if params:
        o['parameters'] = params
    if body:
        o['requestBody'] = {'required': True, 'content': {'application/json': {'schema': schema(body)}}}
    o['responses'] = common(responses)
    o['security'] = [{'apiKeyAuth': []}]
    return o


ID = ref('parameters', 'WebhookId')
DELIVERY_ID = ref('parameters', 'WebhookDeliveryId')

PATHS = {
    P: {
        'get': op('listWebhooks', 'List webhook subscriptions',
                  'Returns the webhook subscriptions of your firm, active and inactive, oldest first. '
                  'Signing secrets are never included.\n', 'read_only',
                  {'200': ok('One page of subscriptions.', 'WebhookSubscriptionListResponse'),
                   '400': err('A paging parameter is invalid (`validation_error`).')},
                  params=[ref('parameters', 'Page'), ref('parameters', 'Limit')]),
        'post': op('createWebhook', 'Create a webhook subscription',
                   'Registers an HTTPS endpoint that receives signed event deliveries for your firm. '
                   'The answer is the only time (with `rotateWebhookSecret`) the signing `secret` is '
                   'shown: store it. A firm may have at most 5 active subscriptions.\n\n'
                   'The URL must use `https`, port 443 (or none), carry no user name or password, and '
                   'every address its host resolves to must be public: loopback, private, link-local, '
                   'shared (CGNAT), multicast, reserved and documentation ranges are refused, for IPv4 '
                   'and IPv6 alike. The same check runs again on every change and before every delivery '
                   'attempt.\n', 'standard',
                   {'201': ok('The created subscription with its signing secret.', 'WebhookSubscriptionSecretResponse'),
                    '400': err('The body is invalid (`validation_error`), the URL is not acceptable '
                               '(`invalid_webhook_url`), or your firm already has 5 active subscriptions '
                               '(`subscription_limit_reached`).')},
                   body='CreateWebhookBody'),
    },
    P + '/{id}': {
        'get': op('getWebhook', 'Get a webhook subscription',
                  'Returns one subscription of your firm, without its signing secret.\n', 'read_only',
                  {'200': ok('The subscription.', 'WebhookSubscriptionResponse'),
                   '400': err(BAD_ID), '404': err(NOT_FOUND)},
                  params=[ID]),
        'patch': op('updateWebhook', 'Update a webhook subscription',
                    'Changes the fields present in the body (at least one). A new `url` is checked like '
                    'on creation. Setting `isActive` to false stops deliveries and ends the queued ones '
                    '(they become `EXHAUSTED`); setting it back to true counts against the limit of 5 '
                    'active subscriptions and resets the failure count of the circuit breaker. `events` '
                    'replaces the event filter; an empty list removes it (every event type).\n', 'standard',
                    {'200': ok('The updated subscription.', 'WebhookSubscriptionResponse'),
                     '400': err('The body is invalid (`validation_error`), the URL is not acceptable '
                                '(`invalid_webhook_url`), or reactivating would exceed 5 active '
                                'subscriptions (`subscription_limit_reached`).'),
                     '404': err(NOT_FOUND)},
                    params=[ID], body='UpdateWebhookBody'),
        'delete': op('deleteWebhook', 'Delete a webhook subscription',
                     'Removes the subscription with its delivery records and echo captures. Deliveries '
                     'still queued for it are not sent.\n', 'standard',
                     {'204': ref('responses', 'NoContent'), '400': err(BAD_ID), '404': err(NOT_FOUND)},
                     params=[ID]),
    },
    P + '/{id}/deliveries': {
        'get': op('listWebhookDeliveries', 'List deliveries of a subscription',
                  'Returns the delivery records of one subscription, newest first: one record per event '
                  'sent to it (and per test or redelivery), with the state of its attempts. Payloads are '
                  'not included. Records are kept for 180 days.\n', 'read_only',
                  {'200': ok('One page of delivery records.', 'WebhookDeliveryListResponse'),
                   '400': err('The id or a paging parameter is invalid (`validation_error`).'),
                   '404': err(NOT_FOUND)},
                  params=[ID, ref('parameters', 'Page'), ref('parameters', 'Limit')]),
    },
    P + '/{id}/deliveries/{deliveryId}/redeliver': {
        'post': op('redeliverWebhookDelivery', 'Send an event again',
                   'Queues the event of a `DELIVERED` or `EXHAUSTED` delivery once more, as a new delivery '
                   'record with a new `X-CaseXchange-Delivery` id and the same event id and body (signed '
                   'with the current secret at each attempt). The new delivery follows the normal retry '
                   'schedule.\n', 'standard',
                   {'202': ok('The new delivery, queued.', 'WebhookDeliveryResponse'),
                    '400': err('An id is invalid (`validation_error`) or the delivery is still pending or '
                               'being retried (`invalid_state_transition`).'),
                    '404': err('Your firm has no such subscription, or the subscription has no such '
                               'delivery (`resource_not_found`).')},
                   params=[ID, DELIVERY_ID]),
    },
    P + '/{id}/test': {
        'post': op('testWebhook', 'Send a test delivery',
                   'Sends a signed `webhook.test` event to the subscription right away and reports the '
                   'outcome of that single attempt (no retries). The attempt is also listed among the '
                   'deliveries; it never counts for the circuit breaker. In echo mode it goes to the echo '
                   'endpoint.\n', 'standard',
                   {'200': ok('The outcome of the attempt (delivered or not).', 'WebhookTestResponse'),
                    '400': err(BAD_ID), '404': err(NOT_FOUND),
                    '409': err('The subscription is inactive (`subscription_inactive`), or an '
                               '`Idempotency-Key` request is still running (`conflict`).')},
                   params=[ID]),
    },
    P + '/{id}/rotate-secret': {
        'post': op('rotateWebhookSecret', 'Rotate the signing secret',
                   'Replaces the signing secret at once and returns the new one (the only time it is '
                   'shown). Every attempt from now on, including retries of events queued earlier, is '
                   'signed with the new secret; the old one stops being used immediately.\n', 'standard',
                   {'200': ok('The subscription with its new secret.', 'WebhookSubscriptionSecretResponse'),
                    '400': err(BAD_ID), '404': err(NOT_FOUND)},
                   params=[ID]),
    },
    P + '/{id}/echo/enable': {
        'post': op('enableWebhookEcho', 'Turn echo mode on',
                   'Echo mode is for building a receiver: while it is on, deliveries of the subscription '
                   'go to an endpoint hosted by this server (`echoUrl`) instead of your URL, which stores '
                   'what it receives (the 50 newest captures, for one hour) and checks the signature. Read '
                   'them with `listWebhookEchoCaptures`. The subscription must be active.\n', 'standard',
                   {'200': ok('Echo mode is on.', 'WebhookEchoResponse'),
                    '400': err('The id is invalid (`validation_error`), echo mode is already on '
                               '(`echo_mode_active`), or the subscription is inactive (`echo_requires_active`).'),
                    '404': err(NOT_FOUND)},
                   params=[ID]),
    },
    P + '/{id}/echo/disable': {
        'post': op('disableWebhookEcho', 'Turn echo mode off',
                   'Sends deliveries to the subscription URL again and discards the echo captures; the '
                   'echo URL stops accepting requests.\n', 'standard',
                   {'200': ok('The subscription, back to normal delivery.', 'WebhookSubscriptionResponse'),
                    '400': err('The id is invalid (`validation_error`) or echo mode is off (`echo_not_active`).'),
                    '404': err(NOT_FOUND)},
                   params=[ID]),
    },
    P + '/{id}/echo/captures': {
        'get': op('listWebhookEchoCaptures', 'List echo captures',
                  'Returns what the echo endpoint of the subscription received in the last hour, newest '
                  'first (at most 50), with the raw body and whether its signature verified against the '
                  'current secret.\n', 'read_only',
                  {'200': ok('The captures.', 'WebhookEchoCaptureListResponse'),
                   '400': err('The id is invalid (`validation_error`) or echo mode is off (`echo_not_active`).'),
                   '404': err(NOT_FOUND)},
                  params=[ID]),
    },
    '/api/v1/webhooks/echo/{token}': {
        'post': {
            'operationId': 'receiveWebhookEcho',
            'tags': ['Webhooks'],
            'summary': 'Echo endpoint of a subscription',
            'description': 'The receiving end of echo mode, hosted by this server: the `echoUrl` of a '
                           'subscription. It needs no credentials (the token in the path is the secret), '
                           'accepts JSON bodies of at most 16 KB, stores each request as a capture of the '
                           'subscription and answers whether its `X-CaseXchange-Signature` verified '
                           'against the subscription\'s current secret (within 5 minutes of its '
                           'timestamp). Deliveries in echo mode are handed to it inside the server.\n',
            'security': [],
            'parameters': [ref('parameters', 'WebhookEchoToken')] + [
                {'name': h, 'in': 'header', 'required': False, 'description': d, 'schema': {'type': 'string', 'maxLength': 512}}
                for h, d in [('X-CaseXchange-Event', 'Event type, as sent with deliveries.'),
                             ('X-CaseXchange-Event-Id', 'Event id, as sent with deliveries.'),
                             ('X-CaseXchange-Delivery', 'Delivery id, as sent with deliveries.'),
                             ('X-CaseXchange-Signature', 'Signature, as sent with deliveries.')]],
            'requestBody': {'required': True, 'content': {'application/json': {'schema': schema('WebhookEchoPayload')}}},
            'responses': {
                '200': ok('Captured.', 'WebhookEchoReceiptResponse', REQ_ID),
                '400': err('The body is not a JSON object (`validation_error`).', REQ_ID),
                '404': err('No subscription is in echo mode with this token (`resource_not_found`).', REQ_ID),
                '413': err('The body is larger than 16 KB (`validation_error`).', REQ_ID),
                '500': ref('responses', 'InternalError'),
                'default': ref('responses', 'ServiceUnavailable'),
            },
        },
    },
}

PARAMETERS = {
    'WebhookId': {'name': 'id', 'in': 'path', 'required': True, 'description': 'Id of the webhook subscription.',
                  'schema': {'type': 'string', 'format': 'uuid'}},
    'WebhookDeliveryId': {'name': 'deliveryId', 'in': 'path', 'required': True,
                          'description': 'Id of the delivery (the `X-CaseXchange-Delivery` header of its requests).',
                          'schema': {'type': 'string', 'format': 'uuid'}},
    'WebhookEchoToken': {'name': 'token', 'in': 'path', 'required': True,
                         'description': 'The echo token of the subscription (see `enableWebhookEcho`).',
                         'schema': {'type': 'string', 'maxLength': 128}},
}

EVENT_TYPES = ['case.created', 'case.updated', 'case.deleted', 'case.status_changed', 'case.rated',
               'referral.sent', 'referral.received', 'referral.accepted', 'referral.rejected',
               'note.created', 'note.updated', 'document.uploaded', 'document.deleted']


def nstr(desc=None, fmt=None):
    o = {'type': 'string', 'nullable': True}
    if fmt:
        o['format'] = fmt
    if desc:
        o['description'] = desc
    return o


def s(desc=None, fmt=None):
    o = {'type': 'string'}
    if fmt:
        o['format'] = fmt
    if desc:
        o['description'] = desc
    return o


def num(desc):
    return {'type': 'number', 'format': 'double', 'nullable': True, 'description': desc}


def envelope(props, required=None):
    return {'type': 'object', 'required': required or list(props.keys()), 'properties': props}


SUB_PROPS = {
    'id': s(fmt='uuid'),
    'url': s('The HTTPS endpoint deliveries are sent to.'),
    'description': nstr('Your label for the subscription.'),
    'events': {'type': 'array', 'nullable': True, 'items': schema('WebhookEventType'),
               'description': 'Event types delivered; null means every event type.'},
    'isActive': {'type': 'boolean', 'description': 'Whether events are delivered to the subscription.'},
    'deactivatedReason': {'type': 'string', 'nullable': True,
                          'description': 'Why an inactive subscription was switched off: by you (`manual`) '
                                         'or after 10 deliveries in a row ran out of attempts '
                                         '(`circuit_breaker`). Null while active.'},
    'consecutiveFailures': {'type': 'integer', 'description': 'Deliveries that ran out of attempts since the '
                            'last successful one; at 10 the subscription is switched off.'},
    'echoMode': {'type': 'boolean', 'description': 'Whether echo mode is on (see `enableWebhookEcho`).'},
    'echoUrl': nstr('The echo endpoint while echo mode is on, else null.'),
    'secretRotatedAt': nstr('When the secret was last rotated, if ever.', 'date-time'),
    'createdAt': s(fmt='date-time'),
    'updatedAt': s(fmt='date-time'),
}
SUB_EXAMPLE = {
    'id': '6b1f0c2e-94d3-4a57-8e1b-2c7d5f9a0e31',
    'url': 'https://hooks.harbor-law.example/casexchange',
    'description': 'Sync into our case system',
    'events': None,
    'isActive': True,
    'deactivatedReason': None,
    'consecutiveFailures': 0,
    'echoMode': False,
    'echoUrl': None,
    'secretRotatedAt': None,
    'createdAt': '2026-05-04T15:20:11Z',
    'updatedAt': '2026-05-04T15:20:11Z',
}
SECRET_PROPS = dict(SUB_PROPS)
SECRET_PROPS['secret'] = s('The signing secret: `whsec_` followed by 64 hex digits. The whole string is the '
                           'HMAC key. Shown only here.')
SECRET_PROPS['secret']['pattern'] = '^whsec_[0-9a-f]{64}$'
SECRET_EXAMPLE = dict(SUB_EXAMPLE, secret='whsec_' + '3a7c' * 16)

SNAPSHOT_PROPS = {
    'id': s('The referral the event is about; for a case that was never referred, the case itself.', 'uuid'),
    'baseCaseId': s('The case.', 'uuid'),
    'referenceNumber': s('Reference number of the referral (of the case when never referred).'),
    'sequenceNumber': {'type': 'integer', 'nullable': True, 'description': 'Position of the referral among the '
                       'referrals of the case (1 for the first); null for a case never referred.'},
    'cmsId': nstr('Id of the case in the referring firm\'s case management system.'),
    'salesforceId': nstr(),
    'salesforceObjectType': nstr(),
    'title': s(),
    'description': nstr(),
    'status': schema('ReferralStatus'),
    'closingStatus': schema('ReferralClosingStatus'),
    'closureReason': nstr(),
    'caseType': s('Case type name.'),
    'jurisdiction': s('Jurisdiction code.'),
    'county': nstr(),
    'clientFirstName': nstr(),
    'clientLastName': nstr(),
    'clientEmail': nstr(),
    'clientPhone': nstr(),
    'clientDateOfBirth': nstr(fmt='date'),
    'incidentDate': nstr(fmt='date'),
    'notes': nstr('The referring firm\'s notes on the case.'),
    'ratedTier': {'type': 'integer', 'nullable': True, 'description': 'Tier the receiving firm gave the case.'},
    'ratingNotes': nstr(),
    'phase': nstr(),
    'leadAttorneyName': nstr(),
    'settlementAmount': num('Final settlement or award.'),
    'attorneyFees': num('Fees earned.'),
    'projectedSettlementAmount': num('Expected settlement.'),
    'clientFeeAgreementPercentage': num('Contingency fee agreed with the client, 0 to 1.'),
    'sendingFirmPercentage': num('Share of the fees owed to the referring firm, 0 to 100.'),
    'statuteOfLimitationsExpiration': nstr(fmt='date'),
    'estimatedDateOfResolution': nstr(fmt='date'),
    'estimatedDistributionDate': nstr(fmt='date'),
    'isRetainerSigned': {'type': 'boolean'},
    'referringFirmId': s(fmt='uuid'),
    'referringFirmName': s(),
    'referentFirmId': nstr('The receiving firm; null for a case never referred.', 'uuid'),
    'referentFirmName': nstr(),
    'sentDate': nstr('When the referral was sent.', 'date-time'),
    'acknowledgedAt': nstr('When the receiving firm acknowledged the referral.', 'date-time'),
    'createdAt': s(fmt='date-time'),
    'updatedAt': s(fmt='date-time'),
}
MASKED_KEYS = ['id', 'baseCaseId', 'referenceNumber', 'status', 'closingStatus', 'referringFirmId',
               'referentFirmId', 'caseType', 'jurisdiction', 'county', 'sentDate', 'isRetainerSigned',
               'createdAt', 'updatedAt']

PREVIOUS_STATUS = {'type': 'string', 'nullable': True,
                   'enum': ['draft', 'sent', 'under_evaluation', 'investigating', 'signed', 'in_litigation',
                            'closing', 'rejected', 'withdrawn', 'closed'],
                   'description': 'The status before the change; null when unknown.'}

FIRM_REF = {'type': 'object', 'required': ['id', 'name'],
            'properties': {'id': s(fmt='uuid'), 'name': s()}}

SCHEMAS = {
    'WebhookEventType': {
        'type': 'string',
        'description': 'Kind of fact an event reports (see the Webhooks tag for who receives which).',
        'enum': EVENT_TYPES,
        'example': 'case.status_changed',
    },
    'WebhookSubscription': {
        'type': 'object', 'description': 'A webhook endpoint of your firm. The signing secret is not part of it.',
        'required': list(SUB_PROPS.keys()), 'properties': SUB_PROPS, 'example': SUB_EXAMPLE,
    },
    'WebhookSubscriptionWithSecret': {
        'type': 'object', 'description': 'A webhook subscription with its signing secret (creation and rotation only).',
        'required': list(SECRET_PROPS.keys()), 'properties': SECRET_PROPS, 'example': SECRET_EXAMPLE,
    },
    'CreateWebhookBody': {
        'type': 'object', 'required': ['url'],
        'properties': {
            'url': {'type': 'string', 'minLength': 1, 'maxLength': 2048,
                    'description': 'HTTPS URL on port 443, without user name or password, whose host resolves '
                                   'only to public addresses.'},
            'description': {'type': 'string', 'maxLength': 255, 'description': 'Your label for it.'},
            'events': {'type': 'array', 'items': schema('WebhookEventType'), 'maxItems': len(EVENT_TYPES),
                       'description': 'Deliver only these event types. Absent or empty: every event type.'},
        },
        'example': {'url': 'https://hooks.harbor-law.example/casexchange', 'description': 'Sync into our case system'},
    },
    'UpdateWebhookBody': {
        'type': 'object', 'minProperties': 1,
        'description': 'The fields to change; at least one.',
        'properties': {
            'url': {'type': 'string', 'minLength': 1, 'maxLength': 2048},
            'description': {'type': 'string', 'maxLength': 255,
                            'description': 'New label; an empty string removes it.'},
            'events': {'type': 'array', 'items': schema('WebhookEventType'), 'maxItems': len(EVENT_TYPES),
                       'description': 'New event filter; an empty list delivers every event type.'},
            'isActive': {'type': 'boolean'},
        },
        'example': {'isActive': False},
    },
    'WebhookSubscriptionResponse': envelope({'data': schema('WebhookSubscription'), 'meta': schema('ResponseMeta')}),
    'WebhookSubscriptionSecretResponse': envelope({'data': schema('WebhookSubscriptionWithSecret'),
                                                   'meta': schema('ResponseMeta')}),
    'WebhookSubscriptionListResponse': envelope({
        'data': {'type': 'array', 'items': schema('WebhookSubscription')},
        'pagination': schema('Pagination'), 'meta': schema('ResponseMeta')}),
    'WebhookDeliveryStatus': {
        'type': 'string',
        'description': '`PENDING`: queued, not attempted yet. `IN_PROGRESS`: an attempt is running. `FAILED`: '
                       'the last attempt failed and another is scheduled at `nextRetryAt` (a failed test '
                       'delivery also ends here, without retry). `DELIVERED`: the receiver answered 2xx. '
                       '`EXHAUSTED`: all 5 attempts failed, or the delivery was cancelled because the '
                       'subscription was switched off.',
        'enum': ['PENDING', 'IN_PROGRESS', 'FAILED', 'DELIVERED', 'EXHAUSTED'],
        'example': 'DELIVERED',
    },
    'WebhookDelivery': {
        'type': 'object',
        'description': 'The record of one event sent to one subscription. `lastError` is one of:\n\n'
                       '* `HTTP <code>`: the receiver answered with a status other than 2xx (redirects are '
                       'not followed);\n'
                       '* `Timeout: no data for 10 s`;\n'
                       '* `Timeout: no complete response within 30 s`;\n'
                       '* `TLS error: <detail>`;\n'
                       '* `Connection error: <detail>`;\n'
                       '* `DNS error: <detail>`;\n'
                       '* `Address not allowed: <host> resolves to a non-public address`;\n'
                       '* `Subscription deactivated`: cancelled before it could be sent;\n'
                       '* `Payload expired`: the body was no longer kept when the attempt was due.\n',
        'required': ['id', 'eventType', 'eventId', 'status', 'attempts', 'lastStatusCode', 'lastError',
                     'deliveredAt', 'nextRetryAt', 'redeliveryOf', 'createdAt'],
        'properties': {
            'id': s('The delivery id, sent as `X-CaseXchange-Delivery`; the same on every attempt.', 'uuid'),
            'eventType': s('The event type, or `webhook.test` for a test delivery.'),
            'eventId': s('The event id, sent as `X-CaseXchange-Event-Id`.', 'uuid'),
            'status': schema('WebhookDeliveryStatus'),
            'attempts': {'type': 'integer', 'minimum': 0, 'maximum': 5, 'description': 'Attempts made so far.'},
            'lastStatusCode': {'type': 'integer', 'nullable': True,
                               'description': 'HTTP status of the last attempt, when one was received.'},
            'lastError': nstr('Why the last attempt failed (see above); null after success.'),
            'deliveredAt': nstr('When the receiver accepted the event.', 'date-time'),
            'nextRetryAt': nstr('When the next attempt is due, while one is scheduled.', 'date-time'),
            'redeliveryOf': nstr('For a redelivery, the delivery it repeats.', 'uuid'),
            'createdAt': s(fmt='date-time'),
        },
        'example': {
            'id': '0f3b8d6e-52a1-4c9e-9b7d-1e4a6c2f8b90', 'eventType': 'referral.accepted',
            'eventId': 'c52e7a1d-3b4f-4e08-a6d9-7f1b2c3d4e5f', 'status': 'FAILED', 'attempts': 2,
            'lastStatusCode': 503, 'lastError': 'HTTP 503', 'deliveredAt': None,
            'nextRetryAt': '2026-05-04T15:32:41Z', 'redeliveryOf': None, 'createdAt': '2026-05-04T15:20:11Z',
        },
    },
    'WebhookDeliveryResponse': envelope({'data': schema('WebhookDelivery'), 'meta': schema('ResponseMeta')}),
    'WebhookDeliveryListResponse': envelope({
        'data': {'type': 'array', 'items': schema('WebhookDelivery')},
        'pagination': schema('Pagination'), 'meta': schema('ResponseMeta')}),
    'WebhookTestResult': {
        'type': 'object',
        'required': ['deliveryId', 'eventId', 'delivered', 'statusCode', 'error', 'durationMs', 'echo'],
        'properties': {
            'deliveryId': s(fmt='uuid'),
            'eventId': s(fmt='uuid'),
            'delivered': {'type': 'boolean', 'description': 'Whether the receiver answered 2xx.'},
            'statusCode': {'type': 'integer', 'nullable': True, 'description': 'HTTP status received, if any.'},
            'error': nstr('Why the attempt failed (the `lastError` texts of `WebhookDelivery`).'),
            'durationMs': {'type': 'integer', 'description': 'Duration of the attempt in milliseconds.'},
            'echo': {'type': 'boolean', 'description': 'True when the test went to the echo endpoint.'},
        },
    },
    'WebhookTestResponse': envelope({'data': schema('WebhookTestResult'), 'meta': schema('ResponseMeta')}),
    'WebhookEcho': {
        'type': 'object', 'required': ['subscriptionId', 'echoUrl', 'echoToken', 'enabledAt'],
        'properties': {
            'subscriptionId': s(fmt='uuid'),
            'echoUrl': s('Where deliveries now go; anyone holding it can post captures, so keep it private.'),
            'echoToken': s('The last path segment of `echoUrl`.'),
            'enabledAt': s(fmt='date-time'),
        },
    },
    'WebhookEchoResponse': envelope({'data': schema('WebhookEcho'), 'meta': schema('ResponseMeta')}),
    'WebhookEchoCapture': {
        'type': 'object',
        'required': ['id', 'receivedAt', 'eventType', 'eventId', 'deliveryId', 'signature', 'signatureValid',
                     'body'],
        'properties': {
            'id': s(fmt='uuid'),
            'receivedAt': s(fmt='date-time'),
            'eventType': nstr('The `X-CaseXchange-Event` header received.'),
            'eventId': nstr('The `X-CaseXchange-Event-Id` header received.'),
            'deliveryId': nstr('The `X-CaseXchange-Delivery` header received.'),
            'signature': nstr('The `X-CaseXchange-Signature` header received.'),
            'signatureValid': {'type': 'boolean', 'description': 'Whether the signature verified against the '
                               'current secret, within 5 minutes of its timestamp.'},
            'body': s('The body exactly as received.'),
        },
    },
    'WebhookEchoCaptureListResponse': envelope({
        'data': {'type': 'array', 'items': schema('WebhookEchoCapture')}, 'meta': schema('ResponseMeta')}),
    'WebhookEchoPayload': {
        'type': 'object', 'additionalProperties': True,
        'description': 'Any JSON object, normally a webhook event. It is stored byte for byte.',
        'x-go-type': 'json.RawMessage',
        'x-go-type-import': {'path': 'encoding/json'},
    },
    'WebhookEchoReceipt': {
        'type': 'object', 'required': ['captureId', 'signatureValid'],
        'properties': {'captureId': s(fmt='uuid'), 'signatureValid': {'type': 'boolean'}},
    },
    'WebhookEchoReceiptResponse': envelope({'data': schema('WebhookEchoReceipt'), 'meta': schema('ResponseMeta')}),

    # What receivers get. These schemas document the bodies this server POSTs to subscriptions.
    'WebhookFirmRef': FIRM_REF,
    'WebhookActor': {
        'type': 'object', 'required': ['firmId', 'source'],
        'properties': {
            'firmId': nstr('The firm whose user or API key caused the event; null for the system (e.g. expiry).',
                           'uuid'),
            'source': s('How the change was made: `api`, `manual`, `system`, or the name of an integration.'),
        },
    },
    'WebhookEvent': {
        'type': 'object',
        'description': 'The body of every event delivery (all but `webhook.test`). The same fact sent to both '
                       'firms of a referral shares `eventId` but differs in `perspective`, `recipientFirmId`, '
                       'possibly `event` (`referral.sent` for the referring firm is `referral.received` for '
                       'the receiving one) and masking.',
        'required': ['schemaVersion', 'event', 'eventId', 'occurredAt', 'perspective', 'piiMasked',
                     'recipientFirmId', 'referralId', 'baseCaseId', 'referenceNumber', 'referringFirm',
                     'referentFirm', 'isTestCase', 'actor', 'data'],
        'properties': {
            'schemaVersion': {'type': 'integer', 'enum': [1], 'description': 'Version of this layout.'},
            'event': schema('WebhookEventType'),
            'eventId': s('Identifies the fact; use it to drop duplicates (delivery is at least once).', 'uuid'),
            'occurredAt': s('When the change was committed.', 'date-time'),
            'perspective': {'type': 'string', 'enum': ['sent', 'received'],
                            'description': '`sent` for the referring firm, `received` for the receiving firm.'},
            'piiMasked': {'type': 'boolean', 'description': 'True when client details are withheld: `data` '
                          'then holds a masked shape.'},
            'recipientFirmId': s('Your firm.', 'uuid'),
            'referralId': nstr('The referral concerned; null for a case never referred.', 'uuid'),
            'baseCaseId': s(fmt='uuid'),
            'referenceNumber': s(),
            'referringFirm': schema('WebhookFirmRef'),
            'referentFirm': {'type': 'object', 'nullable': True, 'required': ['id', 'name'],
                             'properties': {'id': s(fmt='uuid'), 'name': s()},
                             'description': 'The receiving firm; null for a case never referred.'},
            'isTestCase': {'type': 'boolean'},
            'actor': schema('WebhookActor'),
            'changedFields': {'type': 'array', 'items': {'type': 'string'},
                              'description': 'Only on `case.updated` and `note.updated`: the fields that changed.'},
            'data': {'type': 'object', 'additionalProperties': True,
                     'description': 'Depends on `event`: `CaseSnapshot` for `case.created` and `case.updated`; '
                                    '`StatusChangeData` (or `MaskedStatusChangeData` when `piiMasked`) for '
                                    '`case.status_changed` and the `referral.*` events; `CaseTombstone` for '
                                    '`case.deleted`; `CaseRatingData` for `case.rated`; `NoteData` for '
                                    '`note.*`; `DocumentData` for `document.uploaded`; `DocumentTombstone` '
                                    'for `document.deleted`.'},
        },
    },
    'CaseSnapshot': {
        'type': 'object',
        'description': 'The case and its referral as they stood right after the change, with the same field '
                       'names as the case views of the API. The referring firm\'s tier, source and custom '
                       'field values are never included.',
        'required': list(SNAPSHOT_PROPS.keys()), 'properties': SNAPSHOT_PROPS,
    },
    'MaskedCaseSnapshot': {
        'type': 'object', 'additionalProperties': False,
        'description': 'What a receiving firm that has not acknowledged the referral gets instead of a '
                       '`CaseSnapshot`: exactly these 14 fields, none about the client.',
        'required': MASKED_KEYS, 'properties': {k: SNAPSHOT_PROPS[k] for k in MASKED_KEYS},
    },
    'StatusChangeData': {
        'type': 'object',
        'required': ['statusUpdateId', 'previousStatus', 'status', 'closingStatus', 'closureReason', 'message',
                     'changedAt', 'case'],
        'properties': {
            'statusUpdateId': nstr('The matching entry of `GET /status-updates`, when there is one.', 'uuid'),
            'previousStatus': PREVIOUS_STATUS,
            'status': schema('ReferralStatus'),
            'closingStatus': schema('ReferralClosingStatus'),
            'closureReason': nstr('Reason given when rejecting, withdrawing or closing.'),
            'message': nstr('Message written with the change, if any.'),
            'changedAt': s(fmt='date-time'),
            'case': schema('CaseSnapshot'),
        },
    },
    'MaskedStatusChangeData': {
        'type': 'object',
        'description': '`StatusChangeData` for a receiving firm that has not acknowledged the referral: '
                       '`message` and `closureReason` are always null and `case` is masked.',
        'required': ['statusUpdateId', 'previousStatus', 'status', 'closingStatus', 'closureReason', 'message',
                     'changedAt', 'case'],
        'properties': {
            'statusUpdateId': nstr(fmt='uuid'),
            'previousStatus': PREVIOUS_STATUS,
            'status': schema('ReferralStatus'),
            'closingStatus': schema('ReferralClosingStatus'),
            'closureReason': nstr('Always null.'),
            'message': nstr('Always null.'),
            'changedAt': s(fmt='date-time'),
            'case': schema('MaskedCaseSnapshot'),
        },
    },
    'NoteData': {
        'type': 'object',
        'required': ['id', 'referralId', 'baseCaseId', 'message', 'authorFirmId', 'authorName', 'source',
                     'createdAt', 'updatedAt'],
        'properties': {
            'id': s('The message entry (as in `GET /status-updates`).', 'uuid'),
            'referralId': s(fmt='uuid'),
            'baseCaseId': s(fmt='uuid'),
            'message': s(),
            'authorFirmId': nstr(fmt='uuid'),
            'authorName': nstr('The person who wrote it, when written by a user.'),
            'source': s(),
            'createdAt': s(fmt='date-time'),
            'updatedAt': nstr(fmt='date-time'),
        },
    },
    'DocumentData': {
        'type': 'object',
        'required': ['id', 'caseId', 'fileName', 'mimeType', 'sizeBytes', 'description', 'isPublic',
                     'uploadedByFirmId', 'createdAt'],
        'properties': {
            'id': s(fmt='uuid'), 'caseId': s(fmt='uuid'), 'fileName': s(), 'mimeType': s(),
            'sizeBytes': {'type': 'integer', 'format': 'int64'}, 'description': nstr(),
            'isPublic': {'type': 'boolean'}, 'uploadedByFirmId': s(fmt='uuid'), 'createdAt': s(fmt='date-time'),
        },
    },
    'DocumentTombstone': {
        'type': 'object', 'required': ['id', 'caseId', 'fileName', 'deletedAt'],
        'properties': {'id': s(fmt='uuid'), 'caseId': s(fmt='uuid'), 'fileName': s(),
                       'deletedAt': s(fmt='date-time')},
    },
    'CaseTombstone': {
        'type': 'object', 'required': ['id', 'baseCaseId', 'referenceNumber', 'deletedAt'],
        'properties': {'id': s(fmt='uuid'), 'baseCaseId': s(fmt='uuid'), 'referenceNumber': s(),
                       'deletedAt': s(fmt='date-time')},
    },
    'CaseRatingData': {
        'type': 'object', 'required': ['ratedTier', 'previousRatedTier', 'ratingNotes', 'ratedAt', 'case'],
        'properties': {
            'ratedTier': {'type': 'integer', 'nullable': True},
            'previousRatedTier': {'type': 'integer', 'nullable': True},
            'ratingNotes': nstr(),
            'ratedAt': s(fmt='date-time'),
            'case': schema('CaseSnapshot'),
        },
    },
    'WebhookTestEvent': {
        'type': 'object', 'required': ['event', 'timestamp', 'data'],
        'description': 'The fixed body of a test delivery.',
        'properties': {
            'event': {'type': 'string', 'enum': ['webhook.test']},
            'timestamp': s(fmt='date-time'),
            'data': {'type': 'object', 'required': ['message', 'subscriptionId'],
                     'properties': {'message': s(), 'subscriptionId': s(fmt='uuid')}},
        },
    },
}

TAG = {
    'name': 'Webhooks',
    'description': '''Instead of polling, a firm can have events POSTed to up to 5 HTTPS endpoints of its own.

**Requests.** Each delivery is a `POST` with `Content-Type: application/json` whose body is a
`WebhookEvent` (or a `WebhookTestEvent`). Redirects are not followed. The headers are:

* `X-CaseXchange-Event`: the event type;
* `X-CaseXchange-Event-Id`: the id of the fact, the same for both firms and on every attempt;
* `X-CaseXchange-Delivery`: the id of this delivery (one per subscription and event), the same on every attempt;
* `X-CaseXchange-Signature`: `t=<unix seconds>,v1=<signature>`.

**Verifying.** The signature is the lowercase hex HMAC-SHA256, keyed with the whole secret
(`whsec_...`), of the timestamp, a period and the raw body bytes: `HMAC(secret, "<t>.<body>")`.
Compute it over the bytes you received (before any JSON parsing), compare in constant time, and
reject timestamps far from your clock (5 minutes is usual). Every attempt is signed anew with the
secret current at that moment. The Go package `github.com/casexchange/server/pkg/webhookverify`
does all of this.

**Reliability.** Events are recorded in the same transaction as the change and sent after it
commits: a change that is rolled back sends nothing. Delivery is at least once, concurrent and
unordered: deduplicate on `eventId` and order by `occurredAt`. An attempt fails on any status other
than 2xx, on 10 seconds without data, after 30 seconds in total, and on TLS or connection errors.
There are 5 attempts, waiting 30 s, 2 min, 10 min and 30 min between them. When 10 deliveries in a
row run out of attempts the subscription is switched off (`deactivatedReason: circuit_breaker`);
switching a subscription off ends its queued deliveries. Delivery records are kept 180 days, their
bodies 30 days.

**Who receives what.** The referring firm receives every event of its cases (`perspective: sent`).
The receiving firm of a referral (`perspective: received`) receives the status events of that
referral (`referral.received`, `referral.accepted`, `referral.rejected`, `case.status_changed`),
masked (`MaskedStatusChangeData`: no message, `MaskedCaseSnapshot`) until it has acknowledged the
referral; a referral rejected or withdrawn before being acknowledged stays masked. Once it has
acknowledged, and while the referral is under evaluation, investigating, signed, in litigation,
closing or closed, it also receives `case.updated` and the notes written by the referring firm, and
document events until the referral is closed. Events are never sent retroactively. Each status
change produces one event: `referral.sent` (`referral.received` for the receiving firm) when a case
is sent, `referral.accepted` when the receiving firm acknowledges it, `referral.rejected` when it
declines it, and `case.status_changed` for every other change.
''',
}


def wrap(text):
    """Rewraps a multi-line description at 100 columns, keeping paragraphs and bullets."""
    out = []
    for para in text.strip('\n').split('\n\n'):
        lines = para.split('\n')
        if all(l.startswith('* ') for l in lines):
            out.append('\n'.join(textwrap.fill(l, 96, subsequent_indent='  ') for l in lines))
        else:
            out.append(textwrap.fill(' '.join(lines), 96))
    return '\n\n'.join(out) + '\n'


def fresh(v):
    """A deep copy sharing no object (shared objects would be written as YAML anchors), with
    multi-line descriptions wrapped."""
    v = json.loads(json.dumps(v))

    def walk(x):
        if isinstance(x, dict):
            for k, val in x.items():
                if isinstance(val, str) and '\n' in val:
                    x[k] = wrap(val)
                else:
                    walk(val)
        elif isinstance(x, list):
            for i in x:
                walk(i)
    walk(v)
    return v


def main(path):
    src = open(path).read()
    first = src.split('\n', 1)[0]
    spec = yaml.safe_load(src)
    for p, item in PATHS.items():
        if p not in spec['paths']:
            # Deep copies: shared Python objects would be written as YAML anchors.
            spec['paths'][p] = fresh(item)
    comps = spec['components']
    for k, v in PARAMETERS.items():
        comps['parameters'].setdefault(k, fresh(v))
    for k, v in SCHEMAS.items():
        comps['schemas'].setdefault(k, fresh(v))
    if not any(t['name'] == TAG['name'] for t in spec['tags']):
        spec['tags'].append(fresh(TAG))
    out = first + '\n' + yaml.dump(spec, Dumper=Dumper, sort_keys=False, width=100, allow_unicode=True,
                                   default_flow_style=False)
    if open(path).read() != src:
        sys.exit('spec changed during the edit; run again')
    open(path, 'w').write(out)


if __name__ == '__main__':
    main(sys.argv[1])
