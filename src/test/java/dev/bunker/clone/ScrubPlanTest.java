package dev.bunker.clone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bunker.backup.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The scrub plan from a dump's SQL as pg_restore prints it: parsing, foreign key propagation, coverage and type checks. */
@Timeout(30)
class ScrubPlanTest {
    static final String PRE = """
            CREATE TABLE "odd ""s"."t.x" (
                id bigint NOT NULL,
                a text[],
                email text
            );
            ALTER TABLE "odd ""s"."t.x" ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
                SEQUENCE NAME "odd ""s"."t.x_id_seq"
            );
            CREATE TABLE public.accounts (
                email text NOT NULL,
                full_name character varying(40) DEFAULT 'x'::character varying NOT NULL,
                phone character(20),
                "We;ird ""Col" text COLLATE pg_catalog."C",
                created timestamp with time zone DEFAULT now(),
                lower_email text GENERATED ALWAYS AS (lower(email)) STORED,
                short_code character varying(8),
                CONSTRAINT c1 CHECK ((created > now()))
            );
            CREATE UNLOGGED TABLE public.sessions (
                account_email text,
                ip_address inet,
                userAgent text
            );
            """;
    static final String POST = """
            ALTER TABLE ONLY public.accounts
                ADD CONSTRAINT accounts_pkey PRIMARY KEY (email);
            ALTER TABLE ONLY "odd ""s"."t.x"
                ADD CONSTRAINT "t.x_email_fkey" FOREIGN KEY (email) REFERENCES public.accounts(email);
            ALTER TABLE ONLY public.sessions
                ADD CONSTRAINT sessions_fk FOREIGN KEY (account_email) REFERENCES public.accounts(email) ON DELETE CASCADE;
            """;

    @TempDir Path dir;

    ScrubFile file(String yaml) throws Exception {
        Path f = dir.resolve("scrub.yaml");
        Files.writeString(f, yaml);
        return ScrubFile.read(f);
    }

    @Test
    void theDumpsTablesColumnsAndForeignKeysAreRead() {
        DumpSchema s = DumpSchema.parse(PRE, POST);
        assertThat(s.tables().keySet()).extracting(Object::toString).containsExactly("odd \"s.t.x", "public.accounts", "public.sessions");
        DumpSchema.Column full = s.column(new ColumnName("public", "accounts", "full_name"));
        assertThat(full.type()).isEqualTo("character varying(40)");
        assertThat(full.notNull()).isTrue();
        assertThat(full.maxLength()).isEqualTo(40);
        assertThat(s.column(new ColumnName("public", "accounts", "We;ird \"Col")).type()).isEqualTo("text");
        assertThat(s.column(new ColumnName("public", "accounts", "created")).type()).isEqualTo("timestamp with time zone");
        assertThat(s.column(new ColumnName("public", "accounts", "lower_email")).generated()).isTrue();
        assertThat(s.column(new ColumnName("public", "accounts", "c1"))).isNull();
        assertThat(s.foreignKeys()).extracting(fk -> fk.columns() + "->" + fk.referenced())
                .containsExactly("[odd \"s.t.x.email]->[public.accounts.email]", "[public.sessions.account_email]->[public.accounts.email]");
    }

    @Test
    void personalLookingNamesAreFoundByWord() {
        for (String yes : List.of("email", "e_mail", "billing_email", "emails", "first_name", "lastName", "phone_number", "ip", "client_ip",
                "ip_address", "api_token", "password_hash", "iban", "date_of_birth", "dob", "card_last4", "street", "zip", "PostCode")) {
            assertThat(PersonalColumns.looksPersonal(yes)).as(yes).isTrue();
        }
        for (String no : List.of("id", "amount", "created_at", "status", "description", "zipper_count", "hotel", "shipping", "tip", "filename")) {
            assertThat(PersonalColumns.looksPersonal(no)).as(no).isFalse();
        }
    }

    @Test
    void aRuleOnAReferencedColumnPropagatesAlongForeignKeysAndCoverageListsTheRest() throws Exception {
        ScrubPlan plan = ScrubPlan.of(DumpSchema.parse(PRE, POST), file("""
                public.accounts.email: hash
                public.accounts.full_name: fake-name
                public.accounts.phone: keep
                """));
        assertThat(plan.columns()).extracting(p -> p.column().name() + " " + p.rule() + " " + p.propagatedFrom()).containsExactlyInAnyOrder(
                "odd \"s.t.x.email hash public.accounts.email", "public.accounts.email hash null", "public.accounts.full_name fake-name null",
                "public.sessions.account_email hash public.accounts.email");
        assertThat(plan.coverage().kept()).extracting(Object::toString).containsExactly("public.accounts.phone");
        assertThat(plan.coverage().uncovered()).extracting(Object::toString)
                .containsExactly("public.accounts.lower_email", "public.sessions.ip_address");
        assertThatThrownBy(() -> plan.requireCovered(file("public.accounts.email: hash"))).isInstanceOf(CloneException.class)
                .hasMessageContaining("2 column(s) look personal").hasMessageContaining("public.sessions.ip_address");
    }

    @Test
    void rulesThatCannotApplyAreRefusedWithTheReason() throws Exception {
        DumpSchema s = DumpSchema.parse(PRE, POST);
        Map<String, String> cases = Map.of(
                "public.accounts.short_code: hash", "too short for a hash",
                "'\"odd \"\"s\".\"t.x\".a': hash", "hash supports text, varchar, char, uuid and bigint, not text[]",
                "public.accounts.lower_email: hash", "a generated column is computed from others",
                "public.accounts.full_name: \"null\"", "NOT NULL, so null cannot apply",
                "public.accounts.short_code: fake-email", "fake-email needs text or varchar of at least 40 characters",
                "public.accounts.email: hash\npublic.sessions.account_email: fake-name",
                "public.sessions.account_email (fake-name) references public.accounts.email (hash)",
                "public.sessions.account_email: hash", "public.sessions.account_email (hash) references public.accounts.email (keep)",
                "public.accounts.phone: shuffle", "this column's values identify people by themselves");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            assertThatThrownBy(() -> ScrubPlan.of(s, file(c.getKey()))).as(c.getKey()).isInstanceOf(CloneException.class)
                    .hasMessageContaining(c.getValue()).hasMessageContaining("nothing was created");
        }
        // The id column is bigint, so hash fits it.
        assertThat(ScrubPlan.of(s, file("'\"odd \"\"s\".\"t.x\".id': hash")).columns()).hasSize(1);
    }

    @Test
    void tablesSharingAFakePoolStayInOneSessionAndTheRestSpreadBySize() throws Exception {
        ScrubPlan plan = ScrubPlan.of(DumpSchema.parse(PRE, POST), file("""
                public.accounts.email: hash
                public.accounts.full_name: fake-name
                public.sessions.userAgent: fake-name
                public.accounts.phone: keep
                """));
        List<ScrubPlan> parts = plan.split(2, t -> t.table().equals("t.x") ? 1000 : 10);
        assertThat(parts).hasSize(2);
        assertThat(parts.get(0).byTable().keySet()).extracting(Object::toString).containsExactly("odd \"s.t.x");
        assertThat(parts.get(1).byTable().keySet()).extracting(Object::toString).containsExactly("public.accounts", "public.sessions");
        assertThat(parts.stream().mapToInt(p -> p.columns().size()).sum()).isEqualTo(plan.columns().size());
    }

    @Test
    void theHmacPadsFollowRfc2104() {
        byte[][] pads = ScrubSql.pads("key".getBytes());
        assertThat(pads[0]).hasSize(64);
        assertThat(pads[0][0]).isEqualTo((byte) ('k' ^ 0x36));
        assertThat(pads[1][3]).isEqualTo((byte) 0x5c);
        byte[] longKey = new byte[100];
        assertThat(ScrubSql.pads(longKey)[0][0]).isEqualTo((byte) (ScrubSql.sha256(longKey)[0] ^ 0x36));
    }

    @Test
    void aMariaDbBackupIsRefusedWithAClearMessage() {
        Manifest m = new Manifest("shop-dump-1", "shop", "dump", Instant.now(), Instant.now(), "10.11", "sql", "k", 1, "x", List.of(), null, null,
                Map.of(), null, Manifest.MARIADB, null);
        assertThatThrownBy(() -> new CloneDatabase(null, null, Clock.systemUTC()).run(m, "postgresql://u@127.0.0.1:1/dev", null, List.of(), false,
                false, l -> {}, l -> {})).isInstanceOf(CloneException.class).hasMessageContaining("clones are PostgreSQL-only for now");
    }
}
