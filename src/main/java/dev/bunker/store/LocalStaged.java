package dev.bunker.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** A write staged in this store's {@code tmp/}: not durable, not visible, deleted unless published. */
final class LocalStaged implements Staged {
    final LocalStore store;
    final String key;
    final Path target;
    final Path temp;
    final PutOptions options;
    final boolean asNewVersion;
    final PutResult written;

    LocalStaged(LocalStore store, String key, Path target, Path temp, PutOptions options, boolean asNewVersion, PutResult written) {
        this.store = store;
        this.key = key;
        this.target = target;
        this.temp = temp;
        this.options = options;
        this.asNewVersion = asNewVersion;
        this.written = written;
    }

    @Override
    public String store() { return store.name(); }

    @Override
    public String key() { return key; }

    @Override
    public PutResult written() { return written; }

    @Override
    public boolean published() { return false; }

    @Override
    public InputStream open() {
        try {
            return Files.newInputStream(temp);
        } catch (IOException e) {
            throw store.unavailable(key, e);
        }
    }

    @Override
    public void discard() {
        LocalStore.deleteQuietly(temp); // after a publish the temp name is gone: nothing to delete
    }

    @Override
    public String toString() { return "staged write of " + ObjectKeys.quote(key) + " to store '" + store.name() + "'"; }
}
