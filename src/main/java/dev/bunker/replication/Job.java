package dev.bunker.replication;

import java.util.List;

/**
 * A claimed replication job: copy {@code key} to {@code targets} (null: the policy's targets).
 * {@code version} identifies what was claimed, so finishing never drops work enqueued meanwhile.
 */
public record Job(long id, String key, List<String> targets, int attempts, int version) {}
