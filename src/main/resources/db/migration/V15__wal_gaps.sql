-- A stream that resumed past where the stored WAL ended (its slot was dropped or lost and made again) leaves a gap no
-- restore can cross: recorded here, with the cluster the stored WAL belongs to, so the wal-gap alert can say so until a
-- base backup taken after it makes later times restorable again.
alter table wal_streams add column system_id text, add column gap_from text, add column gap_to text, add column gap_at timestamptz;
