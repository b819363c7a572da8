-- +goose Up
-- Each LMS registration signs with keys of its own, published at its own
-- JWKS URL (/lti/platforms/{id}/jwks.json): a client assertion or deep
-- linking response made for one LMS then never verifies at another, even
-- when a hostile LMS claims another's client id or names another's token
-- URL as its audience. Private parts are sealed with ROUNDTABLE_SECRET, as
-- tool_keys' were.
--
-- There is no foreign key to platforms: dynamic registration makes the key
-- (and tells the LMS its URL) before the registration is saved, and drops
-- it when the registration fails.
CREATE TABLE registration_keys (
    platform_id     TEXT NOT NULL,
    kid             TEXT NOT NULL,
    private_key     TEXT NOT NULL,
    -- A copy of a key from tool_keys, which every LMS shared before: it is
    -- also published at /.well-known/jwks.json while a registration holds it.
    shared          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      DATETIME NOT NULL,
    retired_at      DATETIME,
    PRIMARY KEY (platform_id, kid)
);
CREATE INDEX registration_keys_shared ON registration_keys (kid) WHERE shared AND retired_at IS NULL;

-- Existing registrations keep the keys their LMS already trusts (at the
-- shared URL): each gets a copy of every tool key not retired, the newest
-- still signing. tool_keys is left as it was, and nothing adds to it.
INSERT INTO registration_keys (platform_id, kid, private_key, shared, created_at, retired_at)
SELECT p.id, k.kid, k.private_key, TRUE, k.created_at, NULL
FROM platforms p CROSS JOIN tool_keys k
WHERE k.retired_at IS NULL;

-- +goose Down
DROP TABLE registration_keys;
