package dev.bunker;

import dev.bunker.alert.Alerts;
import dev.bunker.backup.Backups;
import dev.bunker.drill.Drills;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.replication.Replication;

/**
 * Every part of Bunker wired on an opened {@link Bunker}: replication, lifecycle, backups, drills and
 * alerts. {@code serve} starts their schedules; commands use the parts directly.
 */
public record Engine(Bunker bunker, Replication replication, Lifecycle lifecycle, Backups backups, Drills drills, Alerts alerts)
        implements AutoCloseable {

    public static Engine on(Bunker bunker) {
        Replication replication = new Replication(bunker);
        Lifecycle lifecycle = new Lifecycle(bunker);
        Backups backups = new Backups(bunker);
        Drills drills = new Drills(bunker, replication);
        return new Engine(bunker, replication, lifecycle, backups, drills, new Alerts(bunker, replication, lifecycle, backups, drills));
    }

    /** RPO and RTO per disaster scenario, from what the parts have done. */
    public java.util.List<dev.bunker.drill.RecoveryReport.Scenario> recovery() throws java.sql.SQLException {
        return dev.bunker.drill.RecoveryReport.compute(bunker.config(), bunker.clock().instant(), replication.ledger(),
                replication.status().read(), drills.runs(), backups.lastBackups());
    }

    /** Stops the parts' schedules and workers; the Bunker itself is closed by its owner. */
    @Override
    public void close() {
        alerts.close();
        drills.close();
        backups.close();
        lifecycle.close();
        replication.close();
    }
}
