-- exclude-columns: schema.table.column patterns; excluded columns are in no
-- image (new, old, unchanged) and in no types/type_oids list.
CREATE TABLE users (id int PRIMARY KEY, name text, ssn text, "E.Mail" text,
	card text);
ALTER TABLE users ALTER COLUMN card SET STORAGE EXTERNAL;
ALTER TABLE users REPLICA IDENTITY FULL;
CREATE TABLE orders (id int PRIMARY KEY, ssn text, total numeric);
SELECT 'init' FROM pg_create_logical_replication_slot('cols', 'walcast');

INSERT INTO users VALUES (1, 'ann', '123-45-6789', 'ann@example.com', repeat('4', 3000));
UPDATE users SET name = 'anne';
DELETE FROM users;
INSERT INTO orders VALUES (1, '999', 10);
SELECT * FROM wc_get('cols', 'exclude-columns', 'public.users.ssn, public.users.E\.Mail, public.users.card',
	'include-types', 'true', 'include-transaction', 'false', 'include-xids', 'false',
	'include-lsn', 'false', 'include-timestamp', 'false', 'include-seq', 'false');

-- wildcards: ssn everywhere; a key column can be excluded too
INSERT INTO users VALUES (2, 'bob', '000', 'b@x', 'c');
INSERT INTO orders VALUES (2, '888', 20);
DELETE FROM orders;
SELECT * FROM wc_get('cols', 'exclude-columns', '*.*.ssn,public.orders.id',
	'include-transaction', 'false', 'include-xids', 'false',
	'include-lsn', 'false', 'include-timestamp', 'false', 'include-seq', 'false');

SELECT pg_drop_replication_slot('cols');
DROP TABLE users, orders;
