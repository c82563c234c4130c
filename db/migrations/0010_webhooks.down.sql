DROP TABLE IF EXISTS webhook_echo_captures;
DROP TABLE IF EXISTS webhook_deliveries;
DROP TABLE IF EXISTS webhook_subscriptions;
