-- The dashboard's charts: key figures sampled every minute by serve (one row per figure and sample time; several serve
-- processes sharing the database write the same sample time once), pruned after dashboard.history.
create table series (
    name  text not null,
    at    timestamptz not null,
    value double precision not null,
    primary key (name, at)
);
create index series_at on series (at);

-- The monthly recovery audit: a person went through the runbook (bunker dr audit, or the dashboard's button).
create table dr_audits (
    id         bigint generated always as identity primary key,
    at         timestamptz not null,
    by_name    text not null check (length(by_name) between 1 and 200),
    note       text not null default '' check (length(note) <= 4000),
    token_name text
);
create index dr_audits_at on dr_audits (at desc);

-- A drill of a MariaDB source's physical backup is recorded apart from the dump and point-in-time drills ('db').
alter table drill_runs drop constraint drill_runs_kind_check;
alter table drill_runs add constraint drill_runs_kind_check check (kind in ('db', 'db-physical', 'objects', 'failover'));
