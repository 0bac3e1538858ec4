-- An upload in flight reserves its key, so a second upload of the same key (from any process) is
-- refused instead of overwriting the first in the primary store. The reservation is a lease,
-- renewed while the upload runs: a process killed mid-upload frees the key within a minute, and no
-- database connection is held for the length of an upload.
create table ingest_reservations (
    key         text collate "C" primary key,
    owner       uuid not null,
    expires_at  timestamptz not null
);
