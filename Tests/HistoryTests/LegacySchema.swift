// The history's schema as it was written by hand before History described
// it once (commit 019cc67): what every existing history file and database
// was made with. Kept as it was, comments included, to hold the described
// schema to it.

enum LegacySchema {
    /// SQLiteHistoryStore's migration "v1": one script.
    static let sqlite = [
        """
        CREATE TABLE host (
            key TEXT PRIMARY KEY NOT NULL,
            identity TEXT NOT NULL
        );
        CREATE TABLE plan (
            key TEXT PRIMARY KEY NOT NULL,
            identity TEXT NOT NULL
        );
        CREATE TABLE run (
            id TEXT PRIMARY KEY NOT NULL,
            host_key TEXT NOT NULL REFERENCES host(key),
            plan_key TEXT NOT NULL REFERENCES plan(key),
            label TEXT,
            started_at REAL NOT NULL,
            partial INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            under_load INTEGER NOT NULL,
            header TEXT NOT NULL,
            conditions TEXT NOT NULL,
            failures TEXT NOT NULL,
            report TEXT NOT NULL
        );
        CREATE INDEX run_by_host ON run(host_key, plan_key, started_at);
        CREATE INDEX run_by_label ON run(label);
        -- Every raw sample, one row per instance and metric.
        CREATE TABLE sample (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            contender TEXT NOT NULL,
            run_index INTEGER NOT NULL,
            instance INTEGER NOT NULL,
            warmup INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            failure TEXT,
            metric TEXT,
            value REAL
        );
        CREATE INDEX sample_by_run ON sample(run_id);
        -- Each series' values in a run: what verdicts read.
        CREATE TABLE summary (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            unit TEXT NOT NULL,
            median REAL NOT NULL,
            low REAL NOT NULL,
            high REAL NOT NULL,
            samples TEXT NOT NULL,
            PRIMARY KEY (run_id, subject, metric)
        );
        CREATE TABLE verdict (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            decision TEXT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (run_id, subject, metric)
        );
        CREATE TABLE annotation (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            host_key TEXT NOT NULL,
            subject TEXT,
            at REAL NOT NULL,
            message TEXT NOT NULL
        );
        """
    ]

    /// PostgresSchema's migration 1: one statement a string.
    static let postgres = [
        "CREATE TABLE host (key TEXT PRIMARY KEY NOT NULL, identity TEXT NOT NULL)",
        "CREATE TABLE plan (key TEXT PRIMARY KEY NOT NULL, identity TEXT NOT NULL)",
        """
        CREATE TABLE run (
            id TEXT PRIMARY KEY NOT NULL,
            host_key TEXT NOT NULL REFERENCES host(key),
            plan_key TEXT NOT NULL REFERENCES plan(key),
            label TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            partial BOOLEAN NOT NULL,
            failed BOOLEAN NOT NULL,
            under_load BOOLEAN NOT NULL,
            header TEXT NOT NULL,
            conditions TEXT NOT NULL,
            failures TEXT NOT NULL,
            report TEXT NOT NULL
        )
        """,
        "CREATE INDEX run_by_host ON run(host_key, plan_key, started_at)",
        "CREATE INDEX run_by_label ON run(label)",
        """
        CREATE TABLE sample (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            contender TEXT NOT NULL,
            run_index INTEGER NOT NULL,
            instance INTEGER NOT NULL,
            warmup BOOLEAN NOT NULL,
            ok BOOLEAN NOT NULL,
            failure TEXT,
            metric TEXT,
            value DOUBLE PRECISION
        )
        """,
        "CREATE INDEX sample_by_run ON sample(run_id)",
        """
        CREATE TABLE summary (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            unit TEXT NOT NULL,
            median DOUBLE PRECISION NOT NULL,
            low DOUBLE PRECISION NOT NULL,
            high DOUBLE PRECISION NOT NULL,
            samples TEXT NOT NULL,
            PRIMARY KEY (run_id, subject, metric)
        )
        """,
        """
        CREATE TABLE verdict (
            run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
            subject TEXT NOT NULL,
            metric TEXT NOT NULL,
            decision TEXT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (run_id, subject, metric)
        )
        """,
        """
        CREATE TABLE annotation (
            id BIGSERIAL PRIMARY KEY,
            host_key TEXT NOT NULL,
            subject TEXT,
            at DOUBLE PRECISION NOT NULL,
            message TEXT NOT NULL
        )
        """,
    ]
}
