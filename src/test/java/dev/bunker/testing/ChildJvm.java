package dev.bunker.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a main class of this build in a separate JVM, so tests can kill it at any instant. */
public final class ChildJvm {
    private ChildJvm() {}

    public static ProcessBuilder builder(Class<?> mainClass, String... args) {
        return builder(List.of(), mainClass, args);
    }

    public static ProcessBuilder builder(List<String> jvmArgs, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(S3MockServer.javaBin());
        cmd.add("-Xmx256m");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    public static Process start(Path log, Class<?> mainClass, String... args) throws IOException {
        return builder(mainClass, args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
