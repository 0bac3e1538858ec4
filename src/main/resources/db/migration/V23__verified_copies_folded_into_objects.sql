-- A compact ledger: a verified copy that the ledger knows nothing particular about (no store version id, no store
-- checksum: every copy on a local store) is no longer a row of `copies` (now `copy_rows`) but a bit in its object's row. A row of copies
-- cost about 300 bytes with its indexes (the key and the store's name repeated in each), three of them per object;
-- the bits cost 12 bytes per object. `copy_rows` keeps the copies that are not verified (pending, missing, corrupt,
-- failed) and the verified ones that carry a version id or a store checksum (S3), and `copy_states` shows both as the
-- one table copies used to be.
--
-- Per object instead of per copy, for the folded ones: the time of its latest verification, and the latest
-- retention of its retained copies (a COMPLIANCE retention only grows, so the latest is the one that holds).

-- The rows that stay get a new name, so a Bunker from before this version, which would read only the rows and write
-- verified ones beside the bits, fails on its first statement instead (Bunker also refuses a schema newer than itself).
alter table copies rename to copy_rows;

-- Every store that ever held a folded copy, numbered for the bit masks (31 of them: an int's bits 0..30). A row is never
-- removed: objects may carry its bit.
create table stores (
    id    smallint primary key check (id between 0 and 30),
    name  text not null unique
);

-- The store's number, given when a copy there is first folded. New stores are numbered one at a time (the table lock).
create function store_id(p_name text) returns smallint language plpgsql set search_path = bunker, pg_temp as $$
declare
    found_id smallint;
begin
    select id into found_id from stores where name = p_name;
    if found then return found_id; end if;
    lock table stores in share row exclusive mode;
    select id into found_id from stores where name = p_name;
    if found then return found_id; end if;
    select coalesce(max(id) + 1, 0) into found_id from stores;
    if found_id > 30 then
        raise exception 'bunker: store % would be the 32nd store to hold verified copies in this ledger; it numbers at most 31', p_name;
    end if;
    insert into stores (id, name) values (found_id, p_name);
    return found_id;
end $$;

-- The store's bit, without numbering it: a store never numbered has no folded copy (0).
create function store_bit(p_name text) returns int language sql stable set search_path = bunker, pg_temp as $$
    select coalesce((select 1 << id from stores where name = p_name), 0)
$$;

-- Adding columns with constant defaults rewrites nothing (PostgreSQL 11+): this migration takes a moment at any size.
alter table objects
    add column verified_on  int not null default 0,   -- bit store_id(s): a verified copy on s, not in copy_rows
    add column retained_on  int not null default 0,   -- of those, the ones under a retention
    add column held_on      int not null default 0,   -- of those, the ones under a legal hold
    add column verified_at  timestamptz,              -- the latest verification of a folded copy
    add column retain_until timestamptz;              -- the latest retention of a folded copy

-- Every copy as the one table it used to be: the rows, and the folded copies.
create view copy_states as
select key, store, state, store_checksum, verified_at, retain_until, legal_hold, last_error, version_id, size
  from copy_rows
union all
select o.key, s.name, 'verified', null, o.verified_at,
       case when o.retained_on & (1 << s.id) <> 0 then o.retain_until end,
       o.held_on & (1 << s.id) <> 0, null, null, o.size
  from objects o join stores s on o.verified_on & (1 << s.id) <> 0
 where o.verified_on <> 0;

-- The objects' counting trigger counts their folded copies too (per store, verified, with the object's size), so a
-- copy moving between a row and a bit counts the same: the row's delete takes it off, the bit adds it back.
create or replace function count_objects() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, count(*), coalesce(sum(size), 0) from new_rows group by state;
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', s.name, 'verified', count(*), coalesce(sum(d.size), 0)
          from new_rows d join stores s on d.verified_on & (1 << s.id) <> 0 group by s.name;
    elsif tg_op = 'DELETE' then
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, -count(*), -coalesce(sum(size), 0) from old_rows group by state;
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', s.name, 'verified', -count(*), -coalesce(sum(d.size), 0)
          from old_rows d join stores s on d.verified_on & (1 << s.id) <> 0 group by s.name;
    else
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, sum(n), sum(bytes)
          from (select state, -1 as n, -coalesce(size, 0) as bytes from old_rows
                union all select state, 1, coalesce(size, 0) from new_rows) d
         group by state having sum(n) <> 0 or sum(bytes) <> 0;
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', s.name, 'verified', sum(d.n), sum(d.bytes)
          from (select verified_on, -1 as n, -coalesce(size, 0) as bytes from old_rows where verified_on <> 0
                union all select verified_on, 1, coalesce(size, 0) from new_rows where verified_on <> 0) d
          join stores s on d.verified_on & (1 << s.id) <> 0
         group by s.name having sum(d.n) <> 0 or sum(d.bytes) <> 0;
    end if;
    return null;
end $$;
revoke execute on function count_objects() from public;

-- The rows recorded before this version are folded by serve, in batches walking copy_rows' key order
-- (CopyRecords.fold, run by the status refresher), not here: a ledger of 10^8 objects holds 3x10^8 rows to move.
-- One row: where the walk is, and whether it is done.
create table copy_fold (
    one          boolean primary key default true check (one),
    after_key    text collate "C" not null default '',
    after_store  text not null default '',
    done         boolean not null default false
);
insert into copy_fold default values;

-- Holds the object's row (writers of a copy hold their object first, then the copy), and turns its folded copy on the
-- store, if there is one, back into a verified row with what the object's row knew of it: marking a copy missing or
-- corrupt, or recording it with a version id, changes a row. 1 when it unfolded one.
create function unfold_copy(p_key text, p_store text) returns int language plpgsql set search_path = bunker, pg_temp as $$
declare
    b int := store_bit(p_store);
    o record;
begin
    -- no key update: the lock an UPDATE of these columns takes, which leaves foreign keys' checks (jobs enqueued) alone
    select verified_on, retained_on, held_on, verified_at, retain_until, size into o from objects where key = p_key for no key update;
    if not found or o.verified_on & b = 0 then return 0; end if;
    update objects set verified_on = verified_on & ~b, retained_on = retained_on & ~b, held_on = held_on & ~b,
           verified_at = case when verified_on & ~b = 0 then null else verified_at end,   -- no folded copy left: nothing to say
           retain_until = case when retained_on & ~b = 0 then null else retain_until end
     where key = p_key;
    insert into copy_rows (key, store, state, verified_at, retain_until, legal_hold, size)
    values (p_key, p_store, 'verified', o.verified_at, case when o.retained_on & b <> 0 then o.retain_until end, o.held_on & b <> 0, o.size)
    on conflict (key, store) do nothing; -- (a row is the fuller record; the two never coexist but by a bug)
    return 1;
end $$;

-- An object's row now says which copies are verified: an app that may write it could claim copies nobody made. The
-- outbox function runs with the schema owner's rights instead, so the app's role needs only usage on the schema and
-- execute on the function (README, "Transactional outbox"); grants of the tables given for earlier versions can go.
alter function replicate_object(text, bigint, text) security definer set search_path = bunker, pg_temp;
revoke execute on function replicate_object(text, bigint, text) from public;
revoke execute on function store_id(text), store_bit(text), unfold_copy(text, text) from public;
