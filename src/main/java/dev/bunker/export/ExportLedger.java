package dev.bunker.export;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** The SQL of exports (migration V19): subscriptions, deliveries and the items each delivery plans. */
public final class ExportLedger {
    /** A subscription: the prefix it exports, and to whom (an age public key) when encrypted. */
    public record Subscription(String name, String prefix, String recipient, String format, Instant createdAt, String createdBy) {}

    /** One run of an export, as recorded. */
    public record Delivery(long id, String subscription, String prefix, Instant since, String format, boolean encrypted, String destination,
                           String fileName, String state, Instant startedAt, Instant finishedAt, long objects, long deleted, long bytes,
                           long doneObjects, String resumeKey, Long resumeOffset, String archiveSha256, String error, String recipient) {}

    /** One planned entry: an object to deliver, or (deleted) a key to list as deleted. */
    public record Item(String key, String sha256, long size, Instant createdAt, boolean deleted) {}

    static final String SUBSCRIBE = """
            insert into export_subscriptions (name, prefix, recipient, format, created_at, created_by) values (?, ?, ?, ?, ?, ?)
            on conflict (name) do nothing
            """;
    static final String SUBSCRIPTION = "select name, prefix, recipient, format, created_at, created_by from export_subscriptions where name = ?";
    static final String SUBSCRIPTIONS = "select name, prefix, recipient, format, created_at, created_by from export_subscriptions order by name";
    static final String DELIVERY_COLUMNS = """
            id, subscription, prefix, since, format, encrypted, destination, file_name, state, started_at, finished_at, objects, deleted, bytes,
            done_objects, resume_key, resume_offset, archive_sha256, error, recipient
            """;
    static final String START = "insert into export_deliveries (subscription, prefix, since, format, encrypted, recipient, destination, file_name, state, started_at)"
            + " values (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?) returning id";
    static final String NAME = "update export_deliveries set file_name = ? where id = ?";
    /**
     * The plan of a delivery. Reads {@code objects} (the replication ledger's table) without changing it: live objects
     * under the prefix whose bytes are known, except those the subscription's earlier deliveries hold with the same
     * SHA-256; and, for subscriptions, the keys those deliveries hold that are no longer live, as deletions.
     */
    static final String PLAN = """
            with held as (
                select distinct on (i.key) i.key, i.sha256, i.size, i.created_at, i.deleted
                  from export_items i join export_deliveries d on d.id = i.delivery
                 where d.subscription = ? and d.state = 'delivered'
                 order by i.key, d.id desc
            ), plan as (
                insert into export_items (delivery, key, sha256, size, created_at, deleted)
                select ?, o.key, o.sha256, o.size, o.created_at, false from objects o
                 where o.key like ? escape '\\' and o.state = 'live' and o.sha256 is not null and o.size is not null
                   and (?::timestamptz is null or o.created_at >= ?::timestamptz)
                   and not exists (select 1 from held h where h.key = o.key and h.sha256 = o.sha256 and not h.deleted)
                union all
                select ?, h.key, h.sha256, h.size, h.created_at, true from held h
                 where not h.deleted and not exists (select 1 from objects o where o.key = h.key and o.state = 'live')
                returning deleted, size
            )
            update export_deliveries set objects = (select count(*) from plan where not deleted),
                   deleted = (select count(*) from plan where deleted), bytes = (select coalesce(sum(size), 0) from plan where not deleted)
             where id = ?
            """;
    static final String ITEMS = "select key, sha256, size, created_at, deleted from export_items where delivery = ? and deleted = ? and key > ? order by key limit ?";
    static final String DROP = "delete from export_items where delivery = ? and key = ?";
    static final String CHECKPOINT = "update export_deliveries set done_objects = ?, resume_key = ?, resume_offset = ? where id = ?";
    static final String RESTART = "update export_deliveries set done_objects = 0, resume_key = null, resume_offset = null, archive_sha256 = null where id = ?";
    /** The archive is whole and durable under its temporary name: its SHA-256 is recorded before it gets its final name, so a later run knows it. */
    static final String SEAL = "update export_deliveries set archive_sha256 = ? where id = ? and state = 'running'";
    static final String FINISH = """
            update export_deliveries set state = 'delivered', finished_at = ?, archive_sha256 = ?,
                   done_objects = (select count(*) from export_items where delivery = ? and not deleted),
                   objects = (select count(*) from export_items where delivery = ? and not deleted),
                   bytes = (select coalesce(sum(size), 0) from export_items where delivery = ? and not deleted), error = null
             where id = ?
            """;
    static final String FAIL = "update export_deliveries set error = ? where id = ?";
    static final String ABANDON = "update export_deliveries set state = 'failed', finished_at = ?, error = ? where id = ? and state = 'running'";
    static final String RUNNING = "select " + DELIVERY_COLUMNS + " from export_deliveries where subscription is not distinct from ? and prefix = ? and state = 'running' order by id desc limit 1";
    static final String DELIVERIES = "select " + DELIVERY_COLUMNS + " from export_deliveries where subscription = ? order by id desc limit ?";
    static final String DELIVERY = "select " + DELIVERY_COLUMNS + " from export_deliveries where id = ?";
    static final String ONE_OFFS = "select " + DELIVERY_COLUMNS + " from export_deliveries where subscription is null order by id desc limit ?";
    static final String LAST_ONE_OFF = "select max(started_at) from export_deliveries where subscription is null and prefix = ? and state = 'delivered'";

    private final DataSource db;

    public ExportLedger(DataSource db) {
        this.db = db;
    }

    /** False when a subscription of that name exists already. */
    public boolean subscribe(String name, String prefix, String recipient, String format, Instant now, String by) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(SUBSCRIBE)) {
            ps.setString(1, name);
            ps.setString(2, prefix);
            ps.setString(3, recipient);
            ps.setString(4, format);
            ps.setTimestamp(5, Timestamp.from(now));
            ps.setString(6, by);
            return ps.executeUpdate() == 1;
        }
    }

    public Optional<Subscription> subscription(String name) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(SUBSCRIPTION)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(subscription(rs)) : Optional.empty();
            }
        }
    }

    public List<Subscription> subscriptions() throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(SUBSCRIPTIONS); ResultSet rs = ps.executeQuery()) {
            List<Subscription> out = new ArrayList<>();
            while (rs.next()) out.add(subscription(rs));
            return out;
        }
    }

    /** Records a new delivery and its plan in one transaction; returns it as recorded. */
    Delivery start(String subscription, String prefix, Instant since, String format, String recipient, String destination,
                   FileNamer names, Instant now) throws SQLException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                long id;
                try (PreparedStatement ps = c.prepareStatement(START)) {
                    ps.setString(1, subscription);
                    ps.setString(2, prefix);
                    ps.setTimestamp(3, since == null ? null : Timestamp.from(since));
                    ps.setString(4, format);
                    ps.setBoolean(5, recipient != null);
                    ps.setString(6, recipient);
                    ps.setString(7, destination);
                    ps.setString(8, "");
                    ps.setTimestamp(9, Timestamp.from(now));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(NAME)) {
                    ps.setString(1, names.name(id));
                    ps.setLong(2, id);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(PLAN)) {
                    ps.setString(1, subscription);
                    ps.setLong(2, id);
                    ps.setString(3, likePrefix(prefix));
                    Timestamp from = since == null ? null : Timestamp.from(since); // the SQL casts it (pgjdbc refuses a Timestamp as TIMESTAMP_WITH_TIMEZONE)
                    ps.setTimestamp(4, from);
                    ps.setTimestamp(5, from);
                    ps.setLong(6, id);
                    ps.setLong(7, id);
                    ps.executeUpdate();
                }
                c.commit();
                return delivery(c, id).orElseThrow();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Names a delivery's file once its id is known. */
    interface FileNamer {
        String name(long id);
    }

    /** The next {@code limit} items after {@code afterKey} (objects, or the deleted keys), in key order. */
    public List<Item> items(long delivery, boolean deleted, String afterKey, int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(ITEMS)) {
            ps.setLong(1, delivery);
            ps.setBoolean(2, deleted);
            ps.setString(3, afterKey == null ? "" : afterKey);
            ps.setInt(4, limit);
            List<Item> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp created = rs.getTimestamp(4);
                    out.add(new Item(rs.getString(1), rs.getString(2), rs.getLong(3), created == null ? null : created.toInstant(), rs.getBoolean(5)));
                }
            }
            return out;
        }
    }

    /** An object that was gone (purged) by the time its turn came: it is not delivered, and not recorded as delivered. */
    void drop(long delivery, String key) throws SQLException {
        update(DROP, delivery, key);
    }

    /** The archive holds every object up to {@code key}, in its first {@code offset} bytes (made durable before this is called). */
    void checkpoint(long delivery, long done, String key, long offset) throws SQLException {
        update(CHECKPOINT, done, key, offset, delivery);
    }

    /** The archive is written again from its start. */
    void restart(long delivery) throws SQLException {
        update(RESTART, delivery);
    }

    void seal(long delivery, String archiveSha256) throws SQLException {
        update(SEAL, archiveSha256, delivery);
    }

    void finish(long delivery, String archiveSha256, Instant now) throws SQLException {
        update(FINISH, Timestamp.from(now), archiveSha256, delivery, delivery, delivery, delivery);
    }

    /** The last error of a delivery left running, to be resumed by the next run. */
    void failed(long delivery, String error) throws SQLException {
        update(FAIL, error, delivery);
    }

    /** Gives up a running delivery: the next run plans anew. */
    boolean abandon(long delivery, String why, Instant now) throws SQLException {
        return update(ABANDON, Timestamp.from(now), why, delivery) == 1;
    }

    Optional<Delivery> running(String subscription, String prefix) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(RUNNING)) {
            ps.setString(1, subscription);
            ps.setString(2, prefix);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(delivery(rs)) : Optional.empty();
            }
        }
    }

    public List<Delivery> deliveries(String subscription, int limit) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(subscription == null ? ONE_OFFS : DELIVERIES)) {
            if (subscription != null) ps.setString(1, subscription);
            ps.setInt(subscription == null ? 1 : 2, limit);
            List<Delivery> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(delivery(rs));
            }
            return out;
        }
    }

    public Optional<Delivery> delivery(long id) throws SQLException {
        try (Connection c = db.getConnection()) {
            return delivery(c, id);
        }
    }

    /** When the last finished one-off export of this prefix started ({@code --since last}), if there was one. */
    Optional<Instant> lastOneOff(String prefix) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(LAST_ONE_OFF)) {
            ps.setString(1, prefix);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp t = rs.getTimestamp(1);
                return Optional.ofNullable(t).map(Timestamp::toInstant);
            }
        }
    }

    private static Optional<Delivery> delivery(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(DELIVERY)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(delivery(rs)) : Optional.empty();
            }
        }
    }

    private int update(String sql, Object... args) throws SQLException {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            return ps.executeUpdate();
        }
    }

    /** {@code prefix%} for LIKE, with LIKE's own characters in the prefix taken literally. */
    static String likePrefix(String prefix) {
        return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }

    private static Subscription subscription(ResultSet rs) throws SQLException {
        return new Subscription(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant(), rs.getString(6));
    }

    private static Delivery delivery(ResultSet rs) throws SQLException {
        Timestamp since = rs.getTimestamp(4);
        Timestamp finished = rs.getTimestamp(11);
        long offset = rs.getLong(17);
        Long resumeOffset = rs.wasNull() ? null : offset;
        return new Delivery(rs.getLong(1), rs.getString(2), rs.getString(3), since == null ? null : since.toInstant(), rs.getString(5),
                rs.getBoolean(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getTimestamp(10).toInstant(),
                finished == null ? null : finished.toInstant(), rs.getLong(12), rs.getLong(13), rs.getLong(14), rs.getLong(15),
                rs.getString(16), resumeOffset, rs.getString(18), rs.getString(19), rs.getString(20));
    }
}
