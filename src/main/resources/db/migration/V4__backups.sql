-- The backup catalog. The manifests stored beside each backup are the source of truth: the catalog
-- can be rebuilt from them (`bunker db list --store S`) when the database that held it is the one lost.
create table backups (
    id            text primary key,
    source        text not null,
    kind          text not null check (kind in ('dump', 'snapshot')),
    started_at    timestamptz not null,
    finished_at   timestamptz not null,
    size          bigint not null,
    sha256        text not null,
    retain_until  timestamptz,          -- COMPLIANCE lock end; null when the kind keeps no lock
    keep_until    timestamptz not null, -- prune after this (never before retain_until)
    stores        text[] not null,
    manifest      jsonb not null
);
create index backups_by_source_kind on backups (source, kind, finished_at desc);
