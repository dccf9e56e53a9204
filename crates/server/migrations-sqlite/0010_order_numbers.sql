-- Numbers for the orders placed before orders had them, in the order they were placed. A new
-- order takes the largest number plus one, under SQLite's one writer (see the unique index).
UPDATE orders SET number = 1000 + (
    SELECT placed.n FROM (
        SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM orders
    ) AS placed WHERE placed.id = orders.id
);
CREATE UNIQUE INDEX orders_number ON orders (number);
