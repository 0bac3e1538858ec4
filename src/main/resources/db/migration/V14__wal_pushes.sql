-- A source with pitr: {wal: archive} has no slot: its server's archive_command pushes finished segments to serve.
alter table wal_streams add column mode text not null default 'stream' check (mode in ('stream', 'archive'));
alter table wal_streams alter column slot drop not null;
