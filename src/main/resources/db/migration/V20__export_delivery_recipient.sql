-- A delivery remembers the age key it encrypts to, so a run that resumes it writes what was planned: a one-off asked
-- again with other options is refused instead of silently writing a plain archive under a .age name. Null: plain, or
-- a delivery started before this column (such an encrypted delivery is planned anew, see Exports.run).
alter table export_deliveries add column recipient text check (recipient ~ '^age1[02-9ac-hj-np-z]{58}$');
alter table export_deliveries add constraint export_deliveries_recipient_encrypted check (recipient is null or encrypted);
