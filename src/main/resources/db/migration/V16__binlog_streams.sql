-- A MariaDB source's binary log archiving reports in wal_streams too (mode 'binlog'): durable_lsn holds FILE:POSITION.
alter table wal_streams drop constraint wal_streams_mode_check;
alter table wal_streams add constraint wal_streams_mode_check check (mode in ('stream', 'archive', 'binlog'));
