-- Scheduled clones (the clones: section of serve's configuration): every run, so the next knows when the last one
-- started and which backup the last good one was made from (a backup already cloned is not cloned again).
create table clone_runs (
    id          bigint generated always as identity primary key,
    name        text not null,
    backup_id   text,
    state       text not null check (state in ('running', 'done', 'failed', 'skipped')),
    started_at  timestamptz not null,
    finished_at timestamptz,
    error       text
);
create index clone_runs_by_name on clone_runs (name, id);
