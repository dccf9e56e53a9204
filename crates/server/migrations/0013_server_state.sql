-- What the server keeps about its own database, one value per key. `demo`: "loading" while the
-- demo data is written (it takes several transactions), "loaded" once all of it is, so that a
-- start after an interrupted load can tell a partial demo from a complete one.
CREATE TABLE server_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
