import GRDB

/// Versioned schema of the SQLite store. Append new migrations; never edit one that has shipped.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("001_conversations_messages_feedback") { db in
            try db.execute(sql: """
                CREATE TABLE conversations (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner_id TEXT NOT NULL,
                    title TEXT NOT NULL DEFAULT '',
                    model TEXT,
                    system_prompt TEXT,
                    message_count INTEGER NOT NULL DEFAULT 0,
                    last_index INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX conversations_by_owner_recent ON conversations (owner_id, updated_at DESC, id DESC);

                CREATE TABLE messages (
                    id TEXT PRIMARY KEY NOT NULL,
                    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    parent_id TEXT,
                    role TEXT NOT NULL,
                    content TEXT NOT NULL,
                    model TEXT,
                    status TEXT NOT NULL,
                    error TEXT,
                    prompt_tokens INTEGER,
                    completion_tokens INTEGER,
                    ttft_ms INTEGER,
                    latency_ms INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    UNIQUE (conversation_id, idx)
                );
                CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

                CREATE TABLE feedback (
                    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL,
                    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
                    comment TEXT,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (message_id, user_id)
                );
                """)
        }
        migrator.registerMigration("002_generation_leases") { db in
            // Milliseconds since 1970 until which the replica generating a `streaming` message holds it;
            // NULL (rows from before leases) counts as expired.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN lease_expires_at INTEGER")
        }
        migrator.registerMigration("003_full_text_search") { db in
            // FTS5 indexes over the tables' own text (external content, keyed by rowid; Parley never VACUUMs,
            // which could renumber rowids). Messages are indexed in batches by the store's search indexer once
            // they are no longer `streaming` (`fts_indexed` marks those done), so neither the partial text
            // written every flush nor each finished answer costs an index write of its own. Afterwards a
            // message's text changes only if a replica overwrites a stop with its fuller text: the trigger
            // then takes the old text out and queues the row again.
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN fts_indexed INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX messages_unindexed ON messages (status) WHERE fts_indexed = 0;
                CREATE VIRTUAL TABLE messages_fts USING fts5(
                    content, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2');
                CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.fts_indexed = 1 BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
                END;
                CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF content ON messages
                WHEN old.fts_indexed = 1 AND new.content IS NOT old.content BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
                    UPDATE messages SET fts_indexed = 0 WHERE rowid = new.rowid;
                END;

                CREATE VIRTUAL TABLE conversations_fts USING fts5(
                    title, content = 'conversations', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2');
                CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
                    INSERT INTO conversations_fts (rowid, title) VALUES (new.rowid, new.title);
                END;
                CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
                    INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
                END;
                CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
                    INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
                    INSERT INTO conversations_fts (rowid, title) VALUES (new.rowid, new.title);
                END;
                INSERT INTO conversations_fts (rowid, title) SELECT rowid, title FROM conversations;
                """)
        }
        migrator.registerMigration("004_accounts") { db in
            // Accounts, and the credentials that stand for them: only SHA-256 digests of session tokens and API
            // keys are stored. Times are milliseconds since 1970.
            try db.execute(sql: """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY NOT NULL,
                    email TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL DEFAULT '',
                    role TEXT NOT NULL,
                    password_hash TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    token_hash TEXT NOT NULL UNIQUE,
                    csrf_token TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    user_agent TEXT NOT NULL DEFAULT '',
                    address TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX sessions_by_user ON sessions (user_id);
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    name TEXT NOT NULL DEFAULT '',
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    last_used_at INTEGER
                );
                CREATE INDEX api_keys_by_user ON api_keys (user_id);
                """)
        }
        migrator.registerMigration("005_audit_events") { db in
            // Security events; no foreign key, so the record of a deleted user stays until retention removes it.
            try db.execute(sql: """
                CREATE TABLE audit_events (
                    id TEXT PRIMARY KEY NOT NULL,
                    at INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    user_id TEXT,
                    actor_id TEXT,
                    detail TEXT NOT NULL DEFAULT '',
                    address TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX audit_events_recent ON audit_events (at DESC, id DESC);
                CREATE INDEX audit_events_by_user ON audit_events (user_id, at DESC);
                """)
        }
        migrator.registerMigration("006_second_factor") { db in
            // The authenticator's secret, and the unused recovery codes' digests separated by spaces.
            try db.execute(sql: """
                ALTER TABLE users ADD COLUMN totp_secret TEXT;
                ALTER TABLE users ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '';
                """)
        }
        migrator.registerMigration("007_password_resets") { db in
            try db.execute(sql: """
                CREATE TABLE password_resets (
                    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    token_hash TEXT NOT NULL UNIQUE,
                    expires_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("008_usage_and_budgets") { db in
            // Budgets per user and per key (NULL: the server's default, or none for a key), and the daily roll-up
            // of tokens per user, key ('' for the user's sessions) and model.
            try db.execute(sql: """
                ALTER TABLE users ADD COLUMN token_budget INTEGER;
                ALTER TABLE api_keys ADD COLUMN token_budget INTEGER;
                CREATE TABLE usage_daily (
                    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    day TEXT NOT NULL,
                    key_id TEXT NOT NULL DEFAULT '',
                    model TEXT NOT NULL,
                    requests INTEGER NOT NULL DEFAULT 0,
                    prompt_tokens INTEGER NOT NULL DEFAULT 0,
                    completion_tokens INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (user_id, day, key_id, model)
                );
                CREATE INDEX usage_daily_by_day ON usage_daily (day);
                """)
        }
        migrator.registerMigration("009_second_factor_steps") { db in
            // The last time step whose code signed in, so a code works once.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN totp_last_step INTEGER")
        }
        migrator.registerMigration("010_knowledge_bases") { db in
            try db.execute(sql: SQLiteMigrations.knowledgeBases)
        }
        migrator.registerMigration("011_grounded_answers") { db in
            // A conversation's knowledge bases (ids separated by commas) and an answer's numbered sources (JSON).
            try db.execute(sql: """
                ALTER TABLE conversations ADD COLUMN knowledge_base_ids TEXT NOT NULL DEFAULT '';
                ALTER TABLE messages ADD COLUMN sources TEXT;
                """)
        }
        migrator.registerMigration("012_reembedding") { db in
            try db.execute(sql: SQLiteMigrations.reembedding)
        }
        migrator.registerMigration("013_pinned_documents") { db in
            try db.execute(sql: """
                ALTER TABLE kb_documents ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX kb_documents_pinned ON kb_documents (base_id, created_at) WHERE pinned = 1;
                """)
        }
        migrator.registerMigration("014_assistants") { db in
            try db.execute(sql: """
                CREATE TABLE assistants (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    system_prompt TEXT,
                    model TEXT,
                    knowledge_base_ids TEXT NOT NULL DEFAULT '',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX assistants_by_owner ON assistants (owner_id);
                """)
        }
        migrator.registerMigration("015_published_assistants") { db in
            // A visitor's chat is a conversation of the assistant's owner marked `visitor_of` the assistant: the
            // owner's own list reads a partial index without them; the assistant's list reads another.
            try db.execute(sql: """
                ALTER TABLE assistants ADD COLUMN public_slug TEXT;
                CREATE UNIQUE INDEX assistants_by_public_slug ON assistants (public_slug) WHERE public_slug IS NOT NULL;
                ALTER TABLE conversations ADD COLUMN visitor_of TEXT;
                CREATE INDEX conversations_own_recent ON conversations (owner_id, updated_at DESC, id DESC)
                    WHERE visitor_of IS NULL;
                CREATE INDEX conversations_of_visitors ON conversations (visitor_of, updated_at DESC, id DESC)
                    WHERE visitor_of IS NOT NULL;
                CREATE TABLE visitor_chats (
                    conversation_id TEXT PRIMARY KEY NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    token_digest TEXT NOT NULL,
                    handoff_email TEXT,
                    handoff_note TEXT,
                    handoff_at INTEGER
                );
                """)
        }
        migrator.registerMigration("016_chat_parameters") { db in
            // Sampling parameters of conversations and assistants, the ones each answer was asked with, and
            // whether the response cache served it: JSON text and hit/miss.
            try db.execute(sql: """
                ALTER TABLE conversations ADD COLUMN parameters TEXT;
                ALTER TABLE assistants ADD COLUMN parameters TEXT;
                ALTER TABLE messages ADD COLUMN parameters TEXT;
                ALTER TABLE messages ADD COLUMN cache TEXT;
                """)
        }
        migrator.registerMigration("017_titles_named_by_users") { db in
            // A title the user gave (at creation or by renaming) is never replaced by a model-written one.
            try db.execute(sql: """
                ALTER TABLE conversations ADD COLUMN title_set_by_user INTEGER NOT NULL DEFAULT 0;
                UPDATE conversations SET title_set_by_user = 1;
                """)
        }
        migrator.registerMigration("018_conversation_organisation") { db in
            try db.execute(sql: """
                ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE conversations ADD COLUMN archived_at INTEGER;
                ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT '';
                """)
        }
        migrator.registerMigration("019_saved_prompts") { db in
            try db.execute(sql: """
                CREATE TABLE prompts (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner_id TEXT NOT NULL,
                    command TEXT NOT NULL,
                    title TEXT NOT NULL,
                    content TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX prompts_by_command ON prompts (owner_id, command);
                """)
        }
        migrator.registerMigration("020_conversation_shares") { db in
            try db.execute(sql: """
                CREATE TABLE conversation_shares (
                    id TEXT PRIMARY KEY NOT NULL,
                    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                    token_digest TEXT NOT NULL UNIQUE,
                    audience TEXT NOT NULL,
                    through_idx INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX conversation_shares_by_conversation ON conversation_shares (conversation_id, created_at DESC);
                """)
        }
        migrator.registerMigration("021_assistant_embed_origins") { db in
            try db.execute(sql: "ALTER TABLE assistants ADD COLUMN embed_origins TEXT NOT NULL DEFAULT ''")
        }
        migrator.registerMigration("022_answer_reasoning") { db in
            // A reasoning model's reasoning, kept apart from the answer, how long it took, and why the
            // upstream ended the answer (`length`: it can be continued).
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN reasoning TEXT;
                ALTER TABLE messages ADD COLUMN reasoning_ms INTEGER;
                ALTER TABLE messages ADD COLUMN finish_reason TEXT;
                """)
        }
        migrator.registerMigration("023_message_branches") { db in
            // Branches: a user message now follows the message before it (as an answer follows its question), so
            // versions left by an edit share a parent; only the active branch is `active`.
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
                UPDATE messages SET parent_id = (
                    SELECT p.id FROM messages p WHERE p.conversation_id = messages.conversation_id AND p.idx < messages.idx
                    ORDER BY p.idx DESC LIMIT 1)
                WHERE role <> 'assistant';
                CREATE INDEX messages_by_parent ON messages (conversation_id, parent_id);
                """)
        }
        migrator.registerMigration("024_attachments") { db in
            // Files and images attached to messages: stored once per owner by content; a message keeps references
            // (id, name, type, size, tokens) as JSON, so pages need no join.
            try db.execute(sql: """
                CREATE TABLE attachments (
                    id TEXT PRIMARY KEY NOT NULL,
                    owner_id TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    name TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    byte_count INTEGER NOT NULL,
                    text TEXT,
                    bytes BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX attachments_by_content ON attachments (owner_id, sha256);
                ALTER TABLE messages ADD COLUMN attachments TEXT;
                """)
        }
        migrator.registerMigration("025_retrieval_settings") { db in
            // How a conversation's or an assistant's turns search their knowledge bases (passages, similarity floor,
            // reranking) as JSON; NULL: the server's defaults.
            try db.execute(sql: """
                ALTER TABLE conversations ADD COLUMN retrieval TEXT;
                ALTER TABLE assistants ADD COLUMN retrieval TEXT;
                """)
        }
        migrator.registerMigration("026_title_index_on_change_only") { db in
            // Each turn sets the title when it is still empty (`title = CASE … ELSE title END`), which fired the
            // title index's trigger on every turn: an FTS5 delete and insert of the same title, the costliest part
            // of starting a turn. The index is now rewritten only when the title changes.
            try db.execute(sql: """
                DROP TRIGGER conversations_fts_update;
                CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations
                WHEN new.title IS NOT old.title BEGIN
                    INSERT INTO conversations_fts (conversations_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
                    INSERT INTO conversations_fts (rowid, title) VALUES (new.rowid, new.title);
                END;
                """)
        }
        return migrator
    }
}
