-- Which page wrote the cart last, and its count of saves: a page's saves can arrive out of
-- order (one in flight while the page, being left, sends the newest with `keepalive`), and an
-- older one must not overwrite a newer one (see `put_cart`).
ALTER TABLE carts ADD COLUMN writer TEXT;
ALTER TABLE carts ADD COLUMN writer_seq BIGINT;
