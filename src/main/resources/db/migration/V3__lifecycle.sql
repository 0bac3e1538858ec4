-- The deletion lifecycle: live -> trashed -> deleting (permanently deleted; holds being released)
-- -> deleted (holds released; waiting for purge_after) -> purged (row moved to tombstones).
alter table objects
    add column state       text not null default 'live' check (state in ('live', 'trashed', 'deleting', 'deleted')),
    add column trashed_at  timestamptz,
    add column trashed_by  text,
    add column deleted_at  timestamptz,
    add column deleted_by  text,
    add column purge_after timestamptz;
create index objects_not_live on objects (state, trashed_at) where state <> 'live';

-- What stays of a purged object, for audit. A key may be used again after its purge, so it is not unique here.
create table tombstones (
    key         text collate "C" not null,
    size        bigint,
    sha256      text,
    created_at  timestamptz,
    trashed_at  timestamptz,
    trashed_by  text,
    deleted_at  timestamptz,
    deleted_by  text,
    purged_at   timestamptz not null,
    purged_by   text not null
);
create index tombstones_by_key on tombstones (key);
create index tombstones_by_purged_at on tombstones (purged_at);

-- Every trash, restore, permanent delete, hold release and purge, with who asked.
create table audit_log (
    id      bigint generated always as identity primary key,
    at      timestamptz not null,
    actor   text not null,
    action  text not null,
    key     text,
    detail  text
);
create index audit_log_by_key on audit_log (key);

-- The mass-deletion brake: one row; tripped_at is set when a purge run would delete too much, and
-- cleared by `bunker purge --confirm`.
create table purge_brake (
    id          int primary key default 1 check (id = 1),
    tripped_at  timestamptz,
    reason      text
);
insert into purge_brake (id) values (1);
