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

-- The copies there now take their object's size; the update trigger above counts the bytes it adds, in this
-- migration's transaction. (One pass over copies: on a very large ledger this migration takes a while.)
update copies c set size = o.size from objects o where o.key = c.key and o.size is not null;
