-- A claimed job leaves the ready index: a claim no longer steps over the rows other workers hold
-- (each one a heap visit, hundreds while a batch of finished jobs waits for its commit).
drop index replication_jobs_ready;
create index replication_jobs_ready on replication_jobs (not_before, id) where state = 'pending' and lease_owner is null;
-- Leases by expiry, for the sweep that frees the jobs of workers that died.
create index replication_jobs_leased on replication_jobs (lease_until) where lease_owner is not null;
