-- Base backups (pg_basebackup of a whole cluster) join dumps and snapshots in the catalog.
alter table backups drop constraint backups_kind_check;
alter table backups add constraint backups_kind_check check (kind in ('dump', 'snapshot', 'base'));
