-- Every drill run and its verdict: which backup, how old it was (achieved RPO), how long the restore
-- took (achieved RTO), each check, and the log.
create table drill_runs (
    id                  bigint generated always as identity primary key,
    kind                text not null check (kind in ('db', 'objects', 'failover')),
    started_at          timestamptz not null,
    finished_at         timestamptz not null,
    ok                  boolean not null,
    backup_id           text,
    backup_age_seconds  double precision,
    restore_seconds     double precision,
    checks              jsonb not null,
    log                 text not null
);
create index drill_runs_by_kind on drill_runs (kind, finished_at desc);

-- Alert state, shared by every process: one row per alert (rule plus subject).
create table alerts (
    name           text primary key,
    firing         boolean not null,
    since          timestamptz not null,
    message        text not null,
    notified_at    timestamptz,
    resolved_at    timestamptz
);
