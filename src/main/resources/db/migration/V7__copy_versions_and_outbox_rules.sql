-- The store version that holds a verified copy (S3 version id; null: the current object). A locked copy that
-- went bad is repaired as a new version, and reads then ask for that version by id.
alter table copies add column version_id text;

-- The outbox function now applies the same rules as the HTTP API: the key grammar (see ObjectKeys), Bunker's
-- reserved '.bunker/' key space, and the lifecycle: a trashed or deleted key cannot be replicated again (its
-- new bytes would be purged with the old object) until it has been purged.
create or replace function replicate_object(p_key text, p_size bigint default null, p_sha256 text default null)
returns void language plpgsql as $$
declare
    known record;
    segment text;
begin
    if p_key is null or p_key = '' then
        raise exception 'bunker.replicate_object: key is empty';
    end if;
    if octet_length(p_key) > 1024 then
        raise exception 'bunker.replicate_object: key is % bytes long; keys may be at most 1024 bytes', octet_length(p_key);
    end if;
    if p_key ~ '[\x01-\x1f\x7f-\x9f\\]' then
        raise exception 'bunker.replicate_object(%): the key contains a control character or a backslash', p_key;
    end if;
    if left(p_key, 1) = '/' or right(p_key, 1) = '/' then
        raise exception 'bunker.replicate_object(%): keys are relative and name objects, not folders: no leading or trailing /', p_key;
    end if;
    if left(p_key, 8) = '.bunker/' then
        raise exception 'bunker.replicate_object(%): keys starting with .bunker/ are reserved for Bunker''s own data', p_key;
    end if;
    foreach segment in array string_to_array(p_key, '/') loop
        if segment = '' or segment = '.' or segment = '..' then
            raise exception 'bunker.replicate_object(%): the key has an empty, . or .. segment', p_key;
        end if;
        if octet_length(segment) > 255 then
            raise exception 'bunker.replicate_object(%): a key segment is longer than 255 bytes', p_key;
        end if;
    end loop;
    if p_size is not null and p_size < 0 then
        raise exception 'bunker.replicate_object(%): size % is negative', p_key, p_size;
    end if;
    if p_sha256 is not null and lower(p_sha256) !~ '^[0-9a-f]{64}$' then
        raise exception 'bunker.replicate_object(%): sha256 must be 64 hex digits, got %', p_key, p_sha256;
    end if;
    insert into bunker.objects (key, size, sha256) values (p_key, p_size, lower(p_sha256))
    on conflict (key) do nothing;
    select size, sha256, state into known from bunker.objects where key = p_key for update;
    if known.state <> 'live' then
        raise exception 'bunker.replicate_object(%): the object is % (deleted by a user); its key can be used again once it has been purged',
            p_key, known.state;
    end if;
    if (p_sha256 is not null and known.sha256 is not null and known.sha256 <> lower(p_sha256))
       or (p_size is not null and known.size is not null and known.size <> p_size) then
        raise exception 'bunker.replicate_object(%): the object is already recorded with other content (objects are immutable; store new versions under new keys)', p_key;
    end if;
    insert into bunker.replication_jobs (key) values (p_key)
    on conflict (key) do update set targets = null, state = 'pending', attempts = 0, not_before = now(),
        last_error = null, version = bunker.replication_jobs.version + 1;
end $$;
