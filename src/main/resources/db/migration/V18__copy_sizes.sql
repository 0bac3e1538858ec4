-- Bytes per store and copy state (the dashboard's Stores card): each copy row carries the size of the bytes it holds,
-- set when the copy is recorded (from objects.size, known once the first copy step has read the primary), so the
-- counting trigger sums its own rows and never joins objects (no race with a size learned in another transaction).
-- A copy recorded before its object's size was known counts 0 bytes until it is recorded again (verified).
alter table copies add column size bigint;

comment on column ledger_counts.bytes is 'objects: sum of the known sizes; copies: sum of the copies'' known sizes';

create or replace function count_copies() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', store, state, count(*), coalesce(sum(size), 0) from new_rows group by store, state;
    elsif tg_op = 'DELETE' then
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', store, state, -count(*), -coalesce(sum(size), 0) from old_rows group by store, state;
    else
        insert into ledger_counts (what, store, state, n, bytes)
        select 'copies', store, state, sum(n), sum(bytes)
          from (select store, state, -1 as n, -coalesce(size, 0) as bytes from old_rows
                union all select store, state, 1, coalesce(size, 0) from new_rows) d
         group by store, state having sum(n) <> 0 or sum(bytes) <> 0;
    end if;
    return null;
end $$;
revoke execute on function count_copies() from public;

-- The copies recorded before this version get their objects' sizes from serve, in batches walking the copies' key
-- order (Ledger.fillCopySizes, run by serve's status refresher), not here: one UPDATE of every copy row took 36 s for two million rows on the
-- bench machine, and would hold the upgrade for hours on a large ledger. The update trigger above counts the bytes
-- each batch adds. One row: where the walk is, and whether it is done.
create table copy_size_fill (
    one          boolean primary key default true check (one),
    after_key    text collate "C" not null default '',
    after_store  text not null default '',
    done         boolean not null default false
);
insert into copy_size_fill default values;
