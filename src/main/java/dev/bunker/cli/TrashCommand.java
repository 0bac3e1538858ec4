package dev.bunker.cli;

import dev.bunker.Engine;
import dev.bunker.Bunker;
import dev.bunker.lifecycle.Lifecycle;
import dev.bunker.lifecycle.Trash;
import dev.bunker.json.Json;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code bunker trash list|restore|empty|undelete}: the trash from the command line. */
@Command(name = "trash", mixinStandardHelpOptions = true, description = "List, restore or empty the trash; undelete a permanently deleted object.",
        subcommands = {TrashCommand.ListTrash.class, TrashCommand.Restore.class, TrashCommand.Empty.class, TrashCommand.Undelete.class})
public final class TrashCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static String actor() {
        return "cli:" + System.getProperty("user.name", "unknown");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Objects in the trash and when each becomes permanently deleted.")
    static final class ListTrash implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
                String after = null;
                List<Trash.Item> all = new java.util.ArrayList<>();
                List<Trash.Item> page;
                do {
                    page = lifecycle.trash().list(after, 1000);
                    all.addAll(page);
                    if (!page.isEmpty()) after = page.get(page.size() - 1).key();
                } while (page.size() == 1000);
                if (json) {
                    System.out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(all));
                } else {
                    for (Trash.Item i : all) {
                        System.out.printf("%s  %s bytes  trashed %s by %s  permanent at %s%n", i.key(), i.size(), i.trashedAt(), i.trashedBy(), i.permanentAt());
                    }
                    System.out.println(all.size() + " object(s) in the trash");
                }
                return 0;
            }
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, description = "Bring a trashed object back, unchanged.")
    static final class Restore implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Parameters(paramLabel = "KEY")
        String key;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
                lifecycle.trash().restore(key, actor());
                System.out.println("restored " + key);
                return 0;
            }
        }
    }

    @Command(name = "empty", mixinStandardHelpOptions = true,
            description = "Permanently delete one trashed object, or the whole trash. Holds are then released and the "
                    + "cleanup job purges the copies after the retention window; nothing is removed from any store now.")
    static final class Empty implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Parameters(arity = "0..1", paramLabel = "KEY", description = "Only this object (default: the whole trash).")
        String key;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
                List<String> keys = lifecycle.trash().empty(key, actor());
                System.out.println(keys.size() + " object(s) permanently deleted; they are purged after the retention window");
                return 0;
            }
        }
    }

    @Command(name = "undelete", mixinStandardHelpOptions = true,
            description = "Take back a permanent deletion before the purge: the object is live again and its legal holds are put back "
                    + "(refused once its copies are purged).")
    static final class Undelete implements Callable<Integer> {
        @Mixin ConfigOptions options;

        @Parameters(paramLabel = "KEY")
        String key;

        @Override
        public Integer call() throws Exception {
            try (Bunker bunker = Bunker.open(options.load(), Clock.systemUTC()); Lifecycle lifecycle = Engine.lifecycle(bunker)) {
                lifecycle.undelete(key, actor());
                System.out.println("undeleted " + key + "; its holds are put back as `bunker serve` replicates it (or run `bunker reconcile`)");
                return 0;
            }
        }
    }
}
