-- The jobs' counts change only when a job's state does, but the statement trigger of V10 ran on every update of
-- replication_jobs, with transition tables and a grouping query: on every claim, lease renewal and release, which
-- are most of the queue's statements, to net to nothing. A row trigger whose WHEN clause the server evaluates without
-- calling any function runs only for a state change (a job failed, or retried), adding one delta row per state.
drop trigger jobs_counted_update on replication_jobs;

create function count_job_state_change() returns trigger language plpgsql security definer set search_path = bunker, pg_temp as $$
begin
    insert into ledger_counts (what, state, n) values ('jobs', old.state, -1), ('jobs', new.state, 1);
    return null;
end $$;

create trigger jobs_counted_state_change after update of state on replication_jobs
    for each row when (old.state is distinct from new.state) execute function count_job_state_change();
revoke execute on function count_job_state_change() from public;
