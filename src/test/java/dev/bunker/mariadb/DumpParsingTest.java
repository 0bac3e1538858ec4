package dev.bunker.mariadb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dump's row counter, the grants reader and the URL parser, on the odd inputs real dumps and users give them. */
class DumpParsingTest {
    static DumpRowCounter count(String dump, int readSize) throws IOException {
        DumpRowCounter c = new DumpRowCounter(new ByteArrayInputStream(dump.getBytes(StandardCharsets.UTF_8)));
        byte[] buf = new byte[readSize];
        while (c.read(buf, 0, buf.length) >= 0) { } // any split of the stream counts the same
        return c;
    }

    static final String DUMP = """
            /*M!999999\\- enable the sandbox mode */\s
            -- MariaDB dump 10.19  Distrib 10.11.19-MariaDB
            -- CHANGE MASTER TO MASTER_LOG_FILE='binlog.000003', MASTER_LOG_POS=1234;
            -- SET GLOBAL gtid_slave_pos='0-1-42';
            DROP TABLE IF EXISTS `a`;
            CREATE TABLE `a` (
              `id` int(11) NOT NULL,
              `s` varchar(20) DEFAULT NULL
            ) ENGINE=InnoDB;
            INSERT INTO `a` VALUES
            (1,'x\\'y),(z'),
            (2,'back\\\\slash;\\n'),
            (3,'it''s (not) a row; really'),
            (4,NULL);
            INSERT INTO `a` VALUES (5,'();'),(6,0x28293B),(7,'\\\\');
            CREATE TABLE `empty` (
              `x` int(11)
            );
            CREATE TABLE `we``ird ☃` (
              `x` int(11)
            );
            INSERT INTO `we``ird ☃` VALUES (1),(2);
            CREATE TABLE `hidden` (
              `a` int(11), `b` int(11) INVISIBLE
            );
            INSERT INTO `hidden` (`a`, `b`) VALUES (1,2),
            (3,4);
            INSERT INTO `hidden` (`VALUES (x)`) VALUES (5);
            /*!50001 CREATE VIEW `v` AS SELECT 1 AS `id` */;
            DELIMITER ;;
            /*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t BEFORE INSERT ON `a` FOR EACH ROW BEGIN
            INSERT INTO `a` VALUES (99, "it's (not) a row");
            CREATE TABLE `made_in_a_trigger` (x int);
            END */;;
            DELIMITER ;
            INSERT INTO `empty` VALUES (1);
            -- Dump completed on 2026-12-04 12:28:04
            """;

    @Test
    void rowsAreCountedPerTableWhateverTheStringsHoldAndHoweverTheStreamIsSplit() throws IOException {
        for (int size : List.of(1, 3, 7, 64, 1 << 16)) {
            DumpRowCounter c = count(DUMP, size);
            assertThat(c.rowCounts()).as("read %d bytes at a time", size)
                    .containsExactly(Map.entry("`a`", 7L), Map.entry("`empty`", 1L), Map.entry("`we``ird ☃`", 2L), Map.entry("`hidden`", 3L));
            assertThat(c.completed()).isTrue();
            assertThat(c.binlogPosition()).isEqualTo(new BinlogPosition("binlog.000003", 1234, "0-1-42"));
        }
        DumpRowCounter single = new DumpRowCounter(new ByteArrayInputStream(DUMP.getBytes(StandardCharsets.UTF_8)));
        while (single.read() >= 0) { }
        assertThat(single.rowCounts()).containsEntry("`a`", 7L);
    }

    @Test
    void aDumpOfSeveralDatabasesCountsEachTableUnderItsDatabase() throws IOException {
        String dump = """
                CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a``b` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;
                USE `a``b`;
                CREATE TABLE `t` (
                  `id` int NOT NULL
                );
                INSERT INTO `t` VALUES (1),(2);
                CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;
                USE `shop`;
                CREATE TABLE `t` (
                  `id` int NOT NULL
                );
                CREATE TABLE `empty` (
                  `id` int NOT NULL
                );
                INSERT INTO `t` VALUES (1),(2),(3);
                -- Dump completed on 2026-12-05 16:00:00
                """;
        for (int size : List.of(1, 5, 1 << 16)) {
            DumpRowCounter c = count(dump, size);
            assertThat(c.rowCounts()).as("read %d bytes at a time", size)
                    .containsExactly(Map.entry("`a``b`.`t`", 2L), Map.entry("`shop`.`t`", 3L), Map.entry("`shop`.`empty`", 0L));
            assertThat(c.completed()).isTrue();
        }
    }

    @Test
    void aDumpCutShortIsNotCompletedAndALongLineIsPassedOver() throws IOException {
        String cut = DUMP.substring(0, DUMP.indexOf("-- Dump completed"));
        assertThat(count(cut, 100).completed()).isFalse();
        String noBinlog = "CREATE TABLE `t` (\n  `x` text\n);\n-- " + "x".repeat(100_000) + " INSERT INTO `t` VALUES (1);\n-- Dump completed\n";
        DumpRowCounter c = count(noBinlog, 4096);
        assertThat(c.rowCounts()).containsExactly(Map.entry("`t`", 0L));
        assertThat(c.binlogPosition()).isNull();
        InputStream in = new DumpRowCounter(new ByteArrayInputStream(new byte[10]));
        assertThatThrownBy(() -> in.skip(5)).isInstanceOf(IOException.class);
    }

    @Test
    void writePrivilegesOnTheDataAreFoundGlobalOnTheDatabaseOnATableOrThroughAPattern() {
        assertThat(Grants.writesOn(List.of("GRANT USAGE ON *.* TO `bk`@`%` IDENTIFIED BY PASSWORD '*AF9E'",
                "GRANT SELECT, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON `shop`.* TO `bk`@`%`", "GRANT SELECT ON `mysql`.`proc` TO `bk`@`%`"), "shop")).isEmpty();
        assertThat(Grants.writesOn(List.of("GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"), "shop"))
                .containsExactly("ALL PRIVILEGES ON *.*");
        assertThat(Grants.writesOn(List.of("GRANT SELECT, INSERT, UPDATE (`note`) ON `shop`.`orders` TO `bk`@`%`"), "shop"))
                .containsExactly("INSERT ON `shop`.`orders`", "UPDATE ON `shop`.`orders`");
        assertThat(Grants.writesOn(List.of("GRANT DELETE ON `sh_p`.* TO `bk`@`%`"), "shop")).containsExactly("DELETE ON `sh_p`.*");
        assertThat(Grants.writesOn(List.of("GRANT DELETE ON `sh\\_p`.* TO `bk`@`%`"), "shop")).isEmpty();
        assertThat(Grants.writesOn(List.of("GRANT DROP ON `other`.* TO `bk`@`%`", "GRANT SUPER ON *.* TO `bk`@`%`"), "shop"))
                .containsExactly("SUPER ON *.*");
        assertThat(Grants.roles(List.of("GRANT `writer` TO `bk`@`%`", "GRANT SELECT ON `shop`.* TO `bk`@`%`"))).containsExactly("`writer`");
        assertThat(Grants.writesOn(List.of("GRANT ALL PRIVILEGES ON `my shop`.* TO `bk`@`%`"), "my shop")).containsExactly("ALL PRIVILEGES ON `my shop`.*");
        assertThat(Grants.writesOn(List.of("GRANT INSERT ON `shop`.`order items` TO `bk`@`%`"), "shop")).containsExactly("INSERT ON `shop`.`order items`");
        assertThat(Grants.writesOn(List.of("GRANT EXECUTE ON PROCEDURE `shop`.`fix` TO `bk`@`%`", "GRANT BINLOG ADMIN ON *.* TO `bk`@`%`"), "shop"))
                .containsExactly("EXECUTE ON `shop`.`fix`", "BINLOG ADMIN ON *.*");
        assertThat(Grants.holds(List.of("GRANT SELECT, SHOW CREATE ROUTINE ON `shop`.* TO `bk`@`%`"), "SHOW CREATE ROUTINE", "shop")).isTrue();
        assertThat(Grants.holds(List.of("GRANT SELECT ON `shop`.* TO `bk`@`%`"), "SHOW CREATE ROUTINE", "shop")).isFalse();
    }

    @Test
    void urlsAreParsedAndOddOnesRefusedWithoutEchoingThePassword() {
        MariaDbUrl u = MariaDbUrl.parse("mariadb://bk:s%40cret@db.example:3307/shop", null, null);
        assertThat(u).isEqualTo(new MariaDbUrl("db.example", 3307, "shop", "bk", "s@cret"));
        assertThat(u.toString()).isEqualTo("mariadb://bk@db.example:3307/shop");
        assertThat(u.toolEnv()).containsExactly(Map.entry("MYSQL_PWD", "s@cret"));
        assertThat(u.toolArgs()).doesNotContain("s@cret").contains("--protocol=TCP", "--user=bk");
        assertThat(MariaDbUrl.parse("jdbc:mysql://h/app", "u", "p")).isEqualTo(new MariaDbUrl("h", 3306, "app", "u", "p"));
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://bk:secret@h:3306/", null, null)).hasMessageContaining("names no database")
                .hasMessageNotContaining("secret");
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://h/a%60b", null, null)).hasMessageContaining("is not a database name");
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://h/a/b", null, null)).hasMessageContaining("names no database");
        assertThatThrownBy(() -> MariaDbUrl.parse("postgresql://h/a", null, null)).hasMessageContaining("is not a MariaDB URL");
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://bk@db_primary:3306/shop", null, null)).hasMessageContaining("cannot read the host");
        assertThatThrownBy(() -> MariaDbUrl.parse("mariadb://bk:p@ss@db:3306/shop", null, null)).hasMessageContaining("cannot read the host")
                .hasMessageNotContaining("p@ss");
    }
}
