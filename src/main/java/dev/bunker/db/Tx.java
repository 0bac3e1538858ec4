package dev.bunker.db;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/** One transaction on a pooled connection: committed if the work returns, rolled back if it throws, whatever it throws. */
public final class Tx {
    /** Work inside a transaction, returning a value. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Work inside a transaction. */
    @FunctionalInterface
    public interface Steps {
        void run(Connection c) throws SQLException;
    }

    private Tx() {}

    public static <T> T run(DataSource db, Work<T> work) throws SQLException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
                throw e;
            }
        }
    }

    public static void execute(DataSource db, Steps steps) throws SQLException {
        run(db, c -> {
            steps.run(c);
            return null;
        });
    }
}
