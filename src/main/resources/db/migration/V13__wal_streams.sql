-- Where each source's WAL streaming stands, written by the process that streams it (a slot has one consumer at a time), so
-- status, alerts and the recovery report of any process can read it.
create table wal_streams (
    source          text primary key,
    slot            text not null,
    streaming       boolean not null,
    durable_lsn     text,                 -- everything before it is in every backup store
    durable_at      timestamptz,          -- when the last chunk's bytes had all arrived
    lag_seconds     double precision,     -- how long the last chunk's oldest byte waited until it was stored
    retained_bytes  bigint,               -- WAL the source keeps for the slot (as of updated_at)
    last_error      text,
    error_at        timestamptz,
    updated_at      timestamptz not null
);
