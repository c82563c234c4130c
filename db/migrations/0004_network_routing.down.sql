DROP TABLE IF EXISTS routing_rule_assignments;
DROP TABLE IF EXISTS routing_rules;
DROP TABLE IF EXISTS network_relationships;
