package dev.bunker.pitr;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream's start on a timeline after the first (the source was promoted, or is a restored copy): the timeline's history
 * stored, so a restore can follow the switch, and where streaming starts. The segment holding the switch point is the new
 * timeline's first file (it begins with a copy of the old timeline's bytes); until it is stored whole, streaming starts
 * there, even before the slot's position (a slot made on a newly promoted server reserves WAL only from its last
 * checkpoint). Positions before it exist on this timeline in no file.
 */
final class NewTimeline {
    private static final Logger LOG = LoggerFactory.getLogger(NewTimeline.class);

    private final String source;
    private final WalUploader uploader;
    private final Clock clock;
    /** The cluster and timeline whose first segment the server no longer had (this process then streams from the slot). */
    private volatile String firstSegmentGone;

    NewTimeline(String source, WalUploader uploader, Clock clock) {
        this.source = source;
        this.uploader = uploader;
        this.clock = clock;
    }

    /** Stores the history of {@code start}'s timeline if it is not stored, and says where to stream from ({@code from}: the slot's segment). */
    long from(Connection replication, WalStream.Start start, long from) throws Exception {
        String content;
        try (Statement s = replication.createStatement(); ResultSet rs = s.executeQuery("TIMELINE_HISTORY " + start.timeline())) {
            if (!rs.next()) throw new SQLException("backup source '" + source + "' returned no history of timeline " + start.timeline());
            content = rs.getString(2);
        }
        TimelineHistory history = TimelineHistory.parse(start.timeline(), content);
        if (!uploader.hasHistory(source, start.systemId(), start.timeline())) {
            uploader.uploadHistory(source, start.systemId(), start.timeline(), content, clock.instant());
            LOG.info("WAL of {} is on timeline {} (switched from {} at {}): its history file is stored", source, start.timeline(),
                    history.last().parent(), Wal.formatLsn(history.last().at()));
        }
        long switchAt = history.last().at();
        long first = switchAt - switchAt % start.segmentSize();
        if (from < first) return first;
        if (from == first || key(start).equals(firstSegmentGone)) return from;
        return uploader.hasSegmentFromItsStart(source, start.systemId(), start.timeline(), first, start.segmentSize()) ? from : first;
    }

    /**
     * A stream that started before the slot's position ({@code from < slotFrom}) failed with {@code e}: if the server no
     * longer has that segment, this process streams from the slot from now on (the gap check then records what was lost).
     */
    void failed(SQLException e, WalStream.Start start, long from, long slotFrom) {
        if (from >= slotFrom || e.getMessage() == null || !e.getMessage().contains("has already been removed")) return;
        LOG.warn("WAL of {}: the server no longer has timeline {}'s first segment ({}); streaming from the slot's position {}", source,
                start.timeline(), e.getMessage(), Wal.formatLsn(slotFrom));
        firstSegmentGone = key(start);
    }

    private static String key(WalStream.Start start) {
        return start.systemId() + "/" + start.timeline();
    }
}
