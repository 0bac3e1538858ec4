-- The ledger: every object Bunker knows, and every copy of it per store.
create table objects (
    key         text collate "C" primary key,
    size        bigint,                -- null until known (an app's outbox call may not give it)
    sha256      text,                  -- hex; null until the first copy step reads the primary
    created_at  timestamptz not null default now()
);

create table copies (
    key             text collate "C" not null references objects (key) on delete cascade,
    store           text not null,
    state           text not null check (state in ('pending', 'verified', 'missing', 'corrupt', 'failed')),
    store_checksum  text,
    verified_at     timestamptz,
    retain_until    timestamptz,
    legal_hold      boolean not null default false,
    last_error      text,
    updated_at      timestamptz not null default now(),
    primary key (key, store)
);
create index copies_by_store_state on copies (store, state);

-- The work queue: at most one job per object. A worker claims a job with FOR UPDATE SKIP LOCKED and
-- holds a lease (lease_owner, lease_until) that it renews while copying; a killed worker's lease
-- runs out and another worker claims the job. `version` changes whenever the job is re-enqueued, so
-- a worker finishing an older version does not drop newer work.
create table replication_jobs (
    id           bigint generated always as identity primary key,
    key          text collate "C" not null unique references objects (key) on delete cascade,
    targets      text[],               -- null: the replication policy's targets for the key
    state        text not null default 'pending' check (state in ('pending', 'failed')),
    attempts     int not null default 0,
    not_before   timestamptz not null default now(),
    lease_owner  uuid,
    lease_until  timestamptz,
    last_error   text,
    version      int not null default 1,
    enqueued_at  timestamptz not null default now()
);
create index replication_jobs_ready on replication_jobs (not_before, id) where state = 'pending';

-- Transactional outbox for apps that upload to the primary store themselves: call this in the same
-- transaction that records the file in the app's own tables, and the replication job commits (or
-- rolls back) with it.  select bunker.replicate_object('photos/a.jpg', 12345, '<sha256 hex>');
create function replicate_object(p_key text, p_size bigint default null, p_sha256 text default null)
returns void language plpgsql as $$
declare
    known record;
begin
    if p_key is null or p_key = '' then
        raise exception 'bunker.replicate_object: key is empty';
    end if;
    if p_sha256 is not null and lower(p_sha256) !~ '^[0-9a-f]{64}$' then
        raise exception 'bunker.replicate_object(%): sha256 must be 64 hex digits, got %', p_key, p_sha256;
    end if;
    insert into bunker.objects (key, size, sha256) values (p_key, p_size, lower(p_sha256))
    on conflict (key) do nothing;
    select size, sha256 into known from bunker.objects where key = p_key;
    if (p_sha256 is not null and known.sha256 is not null and known.sha256 <> lower(p_sha256))
       or (p_size is not null and known.size is not null and known.size <> p_size) then
        raise exception 'bunker.replicate_object(%): the object is already recorded with other content (objects are immutable; store new versions under new keys)', p_key;
    end if;
    insert into bunker.replication_jobs (key) values (p_key)
    on conflict (key) do update set targets = null, state = 'pending', attempts = 0, not_before = now(),
        last_error = null, version = bunker.replication_jobs.version + 1;
end $$;
