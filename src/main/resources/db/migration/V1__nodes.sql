-- Every running `bunker serve` process registers here and refreshes last_seen, so status can show
-- which processes share this database (workers on several machines).
create table nodes (
    id          uuid primary key,
    host        text not null,
    pid         bigint not null,
    version     text not null,
    listen      text not null,
    started_at  timestamptz not null default now(),
    last_seen   timestamptz not null default now()
);
