-- Exports of a prefix's objects back to their owner (bunker export). A subscription remembers what it has delivered,
-- so each run delivers only what is new and lists what was deleted since.
create table export_subscriptions (
    name        text primary key check (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
    prefix      text collate "C" not null check (length(prefix) between 1 and 1024),
    recipient   text check (recipient ~ '^age1[02-9ac-hj-np-z]{58}$'),   -- the owner's age public key, or null
    format      text not null default 'tar' check (format in ('tar', 'zip')),
    created_at  timestamptz not null,
    created_by  text not null
);

-- One run: what it plans to deliver is fixed when it starts (export_items), so a run killed midway resumes the same
-- plan (no gaps, no duplicates); objects uploaded meanwhile wait for the next run.
create table export_deliveries (
    id            bigint generated always as identity primary key,
    subscription  text references export_subscriptions (name) on delete cascade,   -- null: a one-off export
    prefix        text collate "C" not null,
    since         timestamptz,               -- one-off exports: only objects created from then on
    format        text not null,
    encrypted     boolean not null,
    destination   text not null,             -- a folder, or store:NAME/path
    file_name     text not null,
    state         text not null check (state in ('running', 'delivered', 'failed')),
    started_at    timestamptz not null,
    finished_at   timestamptz,
    objects       bigint not null default 0, -- planned objects (those found gone while exporting are dropped)
    deleted       bigint not null default 0, -- deletions listed in the manifest
    bytes         bigint not null default 0,
    done_objects  bigint not null default 0, -- checkpoint: objects written up to resume_key, ending at resume_offset
    resume_key    text collate "C",
    resume_offset bigint,
    archive_sha256 text,
    error         text
);
create index export_deliveries_by_subscription on export_deliveries (subscription, id);

create table export_items (
    delivery  bigint not null references export_deliveries (id) on delete cascade,
    key       text collate "C" not null,
    sha256    text not null,
    size      bigint not null,
    created_at timestamptz,
    deleted   boolean not null,              -- true: listed in the manifest as deleted since an earlier delivery
    primary key (delivery, key)
);
