-- The replication lag is the age of the oldest pending job. Reading it by the primary key walked past every failed job
-- enqueued before it (a store down for a day leaves many); this index holds only the pending ones, in order.
create index replication_jobs_pending on replication_jobs (id) where state = 'pending';
