package dev.bunker.mariadb;

/**
 * Where a backup's snapshot sits in a MariaDB server's binary log: file and byte position, and the GTID position (null
 * fields: not reported). A dump or physical backup records it in its manifest; a replay of the log starts there.
 */
public record BinlogPosition(String file, long position, String gtid) {}
