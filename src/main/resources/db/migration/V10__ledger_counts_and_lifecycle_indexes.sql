-- Counts of objects (by state, with bytes), copies (by store and state) and jobs (by state), kept by triggers in the
-- same transactions that change those tables, so status, metrics, alerts and the deletion brake read a few rows
-- instead of counting the whole ledger. Each statement adds delta rows (never one hot row every writer updates);
-- LedgerCounts folds them into one row per group from time to time. A count is the sum over its group's rows.
create table ledger_counts (
    what   text not null check (what in ('objects', 'copies', 'jobs')),
    store  text not null default '',   -- '' unless what = 'copies'
    state  text not null,
    n      bigint not null,
    bytes  bigint not null default 0   -- objects only: sum of the known sizes
);
create index ledger_counts_by_group on ledger_counts (what, store, state);

-- An update counts what it moved between groups, netted (setting a state to the one it had adds nothing).
-- The functions run as the schema's owner (security definer): an app whose role may only call
-- bunker.replicate_object and write objects and jobs (README) needs no grant on ledger_counts, and cannot write it.
create function count_objects() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, count(*), coalesce(sum(size), 0) from new_rows group by state;
    elsif tg_op = 'DELETE' then
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, -count(*), -coalesce(sum(size), 0) from old_rows group by state;
    else
        insert into ledger_counts (what, state, n, bytes)
        select 'objects', state, sum(n), sum(bytes)
          from (select state, -1 as n, -coalesce(size, 0) as bytes from old_rows
                union all select state, 1, coalesce(size, 0) from new_rows) d
         group by state having sum(n) <> 0 or sum(bytes) <> 0;
    end if;
    return null;
end $$;

create function count_copies() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into ledger_counts (what, store, state, n) select 'copies', store, state, count(*) from new_rows group by store, state;
    elsif tg_op = 'DELETE' then
        insert into ledger_counts (what, store, state, n) select 'copies', store, state, -count(*) from old_rows group by store, state;
    else
        insert into ledger_counts (what, store, state, n)
        select 'copies', store, state, sum(n)
          from (select store, state, -1 as n from old_rows union all select store, state, 1 from new_rows) d
         group by store, state having sum(n) <> 0;
    end if;
    return null;
end $$;

create function count_jobs() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into ledger_counts (what, state, n) select 'jobs', state, count(*) from new_rows group by state;
    elsif tg_op = 'DELETE' then
        insert into ledger_counts (what, state, n) select 'jobs', state, -count(*) from old_rows group by state;
    else
        insert into ledger_counts (what, state, n)
        select 'jobs', state, sum(n)
          from (select state, -1 as n from old_rows union all select state, 1 from new_rows) d
         group by state having sum(n) <> 0;
    end if;
    return null;
end $$;

create function forget_counts() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    delete from ledger_counts where what = tg_argv[0];
    return null;
end $$;

-- (PostgreSQL allows no column list with transition tables: every update runs its trigger, which nets to nothing
-- when no state or size changed.)
create trigger objects_counted_insert after insert on objects referencing new table as new_rows
    for each statement execute function count_objects();
create trigger objects_counted_update after update on objects referencing old table as old_rows new table as new_rows
    for each statement execute function count_objects();
create trigger objects_counted_delete after delete on objects referencing old table as old_rows
    for each statement execute function count_objects();
create trigger objects_counted_truncate after truncate on objects for each statement execute function forget_counts('objects');

create trigger copies_counted_insert after insert on copies referencing new table as new_rows
    for each statement execute function count_copies();
create trigger copies_counted_update after update on copies referencing old table as old_rows new table as new_rows
    for each statement execute function count_copies();
create trigger copies_counted_delete after delete on copies referencing old table as old_rows
    for each statement execute function count_copies();
create trigger copies_counted_truncate after truncate on copies for each statement execute function forget_counts('copies');

create trigger jobs_counted_insert after insert on replication_jobs referencing new table as new_rows
    for each statement execute function count_jobs();
create trigger jobs_counted_update after update on replication_jobs referencing old table as old_rows new table as new_rows
    for each statement execute function count_jobs();
create trigger jobs_counted_delete after delete on replication_jobs referencing old table as old_rows
    for each statement execute function count_jobs();
create trigger jobs_counted_truncate after truncate on replication_jobs for each statement execute function forget_counts('jobs');

-- The counts of what is there now, taken in this migration's transaction, which holds the tables' locks from the
-- triggers' creation on: no change falls between the count and the triggers.
insert into ledger_counts (what, state, n, bytes) select 'objects', state, count(*), coalesce(sum(size), 0) from objects group by state;
insert into ledger_counts (what, store, state, n) select 'copies', store, state, count(*) from copies group by store, state;
insert into ledger_counts (what, state, n) select 'jobs', state, count(*) from replication_jobs group by state;

-- The lifecycle's queries read only the rows in their state, however many live objects there are.
create index objects_purge_due on objects (purge_after, key) where state = 'deleted';
create index objects_trashed on objects (key) where state = 'trashed';
create index objects_deleted_at on objects (deleted_at) where state = 'deleted';

-- Functions are executable by everyone by default, and creating a trigger needs only that: nobody else may attach
-- these owner-rights functions to a table of their own (the triggers above still fire for every writer).
revoke execute on function count_objects(), count_copies(), count_jobs(), forget_counts() from public;
