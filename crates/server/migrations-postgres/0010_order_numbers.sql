-- Numbers for the orders placed before orders had them, in the order they were placed. A new
-- order takes the sequence's next value: concurrent submissions never wait for each other,
-- and a submission that fails leaves its number unused.
UPDATE orders SET number = 1000 + placed.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM orders) AS placed
WHERE placed.id = orders.id;
CREATE SEQUENCE order_numbers AS BIGINT MINVALUE 1001 START WITH 1001;
SELECT setval('order_numbers', MAX(number)) FROM orders HAVING MAX(number) IS NOT NULL;
CREATE UNIQUE INDEX orders_number ON orders (number);
