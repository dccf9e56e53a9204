-- Orders get a number people can say and type ("order 1042"), unique across the seller and
-- given in the order orders are placed, from 1001. Each database fills in the orders placed
-- before (migrations-sqlite/0010, migrations-postgres/0010) and makes it unique; the server
-- gives every new order its number (`Batch::run_numbered`).
ALTER TABLE orders ADD COLUMN number BIGINT;
