-- Every backup Bunker starts, until its manifest is written and cataloged. Prune removes the data of an
-- interrupted backup (no manifest) only when a row here proves Bunker itself wrote it; nothing else under
-- .bunker/backups/ is ever deleted as an "orphan".
create table backup_attempts (
    id          text primary key,
    source      text not null,
    kind        text not null,
    data_key    text not null,
    stores      text[] not null,
    started_at  timestamptz not null
);
