package dev.bunker.pitr;

import dev.bunker.backup.Conninfo;
import dev.bunker.backup.TakeBackup;
import dev.bunker.config.BunkerConfig.BackupSource;
import dev.bunker.db.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;

/**
 * For a source with {@code wal: archive}: what its server says of its archiving ({@code pg_stat_archiver}, readable by any
 * role), recorded for status, alerts and the recovery point. Pushes alone cannot tell a quiet server (nothing to push)
 * from a failing archive_command (nothing arrives either); the server can. Caught up (every finished segment archived),
 * the WAL not yet stored is only what the open segment holds: nothing when no WAL was written since the last switch,
 * else at most {@code archive_timeout} of it, the interval after which the server ends a segment.
 */
public final class WalArchiveWatch {
    static final String READ = """
            select a.last_archived_wal, a.last_archived_time, a.last_failed_wal, a.last_failed_time, a.failed_count,
                   pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn()),
                   (select setting::bigint from pg_settings where name = 'wal_segment_size'),
                   (select setting::int from pg_settings where name = 'archive_timeout'),
                   current_setting('archive_mode')
              from pg_stat_archiver a
            """;

    /** What the server said: whether every finished segment is archived, how far stored WAL reaches in time, and what is wrong. */
    public record State(boolean caughtUp, Instant storedThrough, String problem) {}

    private final BackupSource source;
    private final WalLedger ledger;
    private final Clock clock;

    public WalArchiveWatch(BackupSource source, WalLedger ledger, Clock clock) {
        this.source = source;
        this.ledger = ledger;
        this.clock = clock;
    }

    /** Asks the server and records what it says (or that it could not be asked). */
    public State check() throws SQLException {
        Instant now = clock.instant();
        State s;
        try (Connection c = TakeBackup.connectToSource(Conninfo.parse(source.url(), source.user(), source.password()), source.name());
             PreparedStatement ps = c.prepareStatement(READ); ResultSet rs = ps.executeQuery()) {
            rs.next();
            s = judge(rs.getString(1), Sql.instant(rs, 2), rs.getString(3), Sql.instant(rs, 4), rs.getLong(5), Wal.parseLsn(rs.getString(6)),
                    Wal.timelineOf(rs.getString(7)), rs.getLong(8), rs.getInt(9), rs.getString(10), now);
        } catch (SQLException e) {
            s = new State(false, null, e.getMessage());
        }
        ledger.recordArchiveCheck(source.name(), s.storedThrough(), s.problem(), s.problem() == null ? null : now, now);
        return s;
    }

    static State judge(String lastArchived, Instant archivedAt, String lastFailed, Instant failedAt, long failures, long lsn, int timeline,
                       long segmentSize, int archiveTimeoutSeconds, String archiveMode, Instant now) {
        if (!archiveMode.equals("on") && !archiveMode.equals("always")) {
            return new State(false, null, "archive_mode is " + archiveMode + " on the server: set archive_mode = on and archive_command = "
                    + "'bin/bunker wal push ... %p' (README, \"Point-in-time recovery\") and restart it");
        }
        long segmentStart = lsn - lsn % segmentSize;
        String previous = segmentStart == 0 ? null : Wal.segmentName(timeline, segmentStart - segmentSize, segmentSize);
        boolean caughtUp = previous == null || (lastArchived != null && lastArchived.length() == 24 && lastArchived.compareTo(previous) >= 0);
        String problem = null;
        if (failedAt != null && (archivedAt == null || failedAt.isAfter(archivedAt))) {
            problem = "archive_command is failing: " + failures + " failure(s) so far, the last for segment " + lastFailed + " at " + failedAt
                    + " (the server's log has bin/bunker wal push's message); the server keeps WAL until it succeeds";
        } else if (archiveTimeoutSeconds == 0) {
            problem = "archive_timeout is 0 on the server: WAL waits in the open segment until " + (segmentSize >> 20) + " MiB fill; "
                    + "set archive_timeout = 60s to bound what a lost server loses";
        }
        Instant through = null;
        if (caughtUp && lsn - segmentStart <= 40) {
            through = now; // nothing written since the last switch (a long page header at most)
        } else if (caughtUp && archiveTimeoutSeconds > 0) {
            through = now.minusSeconds(archiveTimeoutSeconds);
        }
        return new State(caughtUp, through, problem);
    }
}
