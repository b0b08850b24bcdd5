import Logging
import PostgresNIO

/// Versioned schema of the PostgreSQL store. Append new migrations; never edit one that has shipped.
/// Applied under an advisory lock, so replicas starting together migrate once.
enum PostgresMigrations {
    static let lockKey: Int64 = 0x7061_726C_6579  // "parley"

    static let all: [(version: String, statements: [String])] = [
        ("001_conversations_messages_feedback", [
            """
            CREATE TABLE conversations (
                id UUID PRIMARY KEY,
                owner_id TEXT NOT NULL,
                title TEXT NOT NULL DEFAULT '',
                model TEXT,
                system_prompt TEXT,
                message_count INTEGER NOT NULL DEFAULT 0,
                last_index INTEGER NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX conversations_by_owner_recent ON conversations (owner_id, updated_at DESC, id DESC)",
            """
            CREATE TABLE messages (
                id UUID PRIMARY KEY,
                conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                idx INTEGER NOT NULL,
                parent_id UUID,
                role TEXT NOT NULL,
                content TEXT NOT NULL,
                model TEXT,
                status TEXT NOT NULL,
                error TEXT,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                ttft_ms INTEGER,
                latency_ms INTEGER,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (conversation_id, idx)
            )
            """,
            "CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming'",
            """
            CREATE TABLE feedback (
                message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
                user_id TEXT NOT NULL,
                rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
                comment TEXT,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (message_id, user_id)
            )
            """,
        ]),
        ("002_generation_leases", [
            // Milliseconds since 1970 (database clock) until which the replica generating a `streaming` message
            // holds it; NULL (rows from before leases) counts as expired.
            "ALTER TABLE messages ADD COLUMN lease_expires_at BIGINT",
        ]),
        ("003_full_text_search", [
            // The 'simple' configuration: no stemming and no stop words, like SQLite's unicode61 tokenizer, so
            // both backends find the same words. Messages are indexed once no longer `streaming`.
            """
            CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', content))
            WHERE status <> 'streaming'
            """,
            "CREATE INDEX conversations_search ON conversations USING gin (to_tsvector('simple', title))",
        ]),
        ("004_accounts", [
            // Accounts, and the credentials that stand for them: only SHA-256 digests of session tokens and API
            // keys are stored. Times are milliseconds since 1970.
            """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                role TEXT NOT NULL,
                password_hash TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                id UUID PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                user_agent TEXT NOT NULL DEFAULT '',
                address TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX sessions_by_user ON sessions (user_id)",
            """
            CREATE TABLE api_keys (
                id UUID PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                name TEXT NOT NULL DEFAULT '',
                prefix TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                scopes TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                last_used_at BIGINT
            )
            """,
            "CREATE INDEX api_keys_by_user ON api_keys (user_id)",
        ]),
        ("005_audit_events", [
            // Security events; no foreign key, so the record of a deleted user stays until retention removes it.
            """
            CREATE TABLE audit_events (
                id UUID PRIMARY KEY,
                at BIGINT NOT NULL,
                kind TEXT NOT NULL,
                user_id TEXT,
                actor_id TEXT,
                detail TEXT NOT NULL DEFAULT '',
                address TEXT NOT NULL DEFAULT ''
            )
            """,
            "CREATE INDEX audit_events_recent ON audit_events (at DESC, id DESC)",
            "CREATE INDEX audit_events_by_user ON audit_events (user_id, at DESC)",
        ]),
        ("006_second_factor", [
            // The authenticator's secret, and the unused recovery codes' digests separated by spaces.
            "ALTER TABLE users ADD COLUMN totp_secret TEXT",
            "ALTER TABLE users ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT ''",
        ]),
        ("007_password_resets", [
            """
            CREATE TABLE password_resets (
                user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                expires_at BIGINT NOT NULL
            )
            """,
        ]),
        ("008_usage_and_budgets", [
            // Budgets per user and per key (NULL: the server's default, or none for a key), and the daily roll-up
            // of tokens per user, key ('' for the user's sessions) and model.
            "ALTER TABLE users ADD COLUMN token_budget BIGINT",
            "ALTER TABLE api_keys ADD COLUMN token_budget BIGINT",
            """
            CREATE TABLE usage_daily (
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                day TEXT NOT NULL,
                key_id TEXT NOT NULL DEFAULT '',
                model TEXT NOT NULL,
                requests BIGINT NOT NULL DEFAULT 0,
                prompt_tokens BIGINT NOT NULL DEFAULT 0,
                completion_tokens BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (user_id, day, key_id, model)
            )
            """,
            "CREATE INDEX usage_daily_by_day ON usage_daily (day)",
        ]),
        ("009_second_factor_steps", [
            // The last time step whose code signed in, so a code works once.
            "ALTER TABLE users ADD COLUMN totp_last_step BIGINT",
        ]),
        ("010_knowledge_bases", knowledgeBases),
        ("011_grounded_answers", [
            // A conversation's knowledge bases (ids separated by commas) and an answer's numbered sources (JSON).
            "ALTER TABLE conversations ADD COLUMN knowledge_base_ids TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE messages ADD COLUMN sources TEXT",
        ]),
        ("012_reembedding", reembedding),
        ("013_pinned_documents", [
            "ALTER TABLE kb_documents ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false",
            "CREATE INDEX kb_documents_pinned ON kb_documents (base_id, created_at) WHERE pinned",
        ]),
        ("014_assistants", [
            """
            CREATE TABLE assistants (
                id UUID PRIMARY KEY,
                owner_id TEXT NOT NULL,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                system_prompt TEXT,
                model TEXT,
                knowledge_base_ids TEXT NOT NULL DEFAULT '',
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX assistants_by_owner ON assistants (owner_id)",
        ]),
        ("015_published_assistants", [
            "ALTER TABLE assistants ADD COLUMN public_slug TEXT",
            "CREATE UNIQUE INDEX assistants_by_public_slug ON assistants (public_slug) WHERE public_slug IS NOT NULL",
            "ALTER TABLE conversations ADD COLUMN visitor_of UUID",
            """
            CREATE INDEX conversations_own_recent ON conversations (owner_id, updated_at DESC, id DESC)
                WHERE visitor_of IS NULL
            """,
            """
            CREATE INDEX conversations_of_visitors ON conversations (visitor_of, updated_at DESC, id DESC)
                WHERE visitor_of IS NOT NULL
            """,
            """
            CREATE TABLE visitor_chats (
                conversation_id UUID PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
                token_digest TEXT NOT NULL,
                handoff_email TEXT,
                handoff_note TEXT,
                handoff_at BIGINT
            )
            """,
        ]),
        ("016_chat_parameters", [
            "ALTER TABLE conversations ADD COLUMN parameters TEXT",
            "ALTER TABLE assistants ADD COLUMN parameters TEXT",
            "ALTER TABLE messages ADD COLUMN parameters TEXT",
            "ALTER TABLE messages ADD COLUMN cache TEXT",
        ]),
        ("017_titles_named_by_users", [
            "ALTER TABLE conversations ADD COLUMN title_set_by_user BOOLEAN NOT NULL DEFAULT false",
            "UPDATE conversations SET title_set_by_user = true",
        ]),
        ("018_conversation_organisation", [
            "ALTER TABLE conversations ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false",
            "ALTER TABLE conversations ADD COLUMN archived_at BIGINT",
            "ALTER TABLE conversations ADD COLUMN tags TEXT NOT NULL DEFAULT ''",
        ]),
        ("019_saved_prompts", [
            """
            CREATE TABLE prompts (
                id UUID PRIMARY KEY,
                owner_id TEXT NOT NULL,
                command TEXT NOT NULL,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX prompts_by_command ON prompts (owner_id, command)",
        ]),
        ("020_conversation_shares", [
            """
            CREATE TABLE conversation_shares (
                id UUID PRIMARY KEY,
                conversation_id UUID NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
                token_digest TEXT NOT NULL UNIQUE,
                audience TEXT NOT NULL,
                through_idx INTEGER NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX conversation_shares_by_conversation ON conversation_shares (conversation_id, created_at DESC)",
        ]),
        ("021_assistant_embed_origins", [
            "ALTER TABLE assistants ADD COLUMN embed_origins TEXT NOT NULL DEFAULT ''",
        ]),
        ("022_answer_reasoning", [
            "ALTER TABLE messages ADD COLUMN reasoning TEXT",
            "ALTER TABLE messages ADD COLUMN reasoning_ms BIGINT",
            "ALTER TABLE messages ADD COLUMN finish_reason TEXT",
        ]),
        ("023_message_branches", [
            // A user message follows the message before it, so the versions an edit leaves share a parent; only
            // the active branch is `active`. The conversation names the active branch's newest message (and the
            // one before the last turn, read back by a turn that waited for another), so a turn started while
            // another commits follows it although the statement's snapshot does not see it.
            "ALTER TABLE messages ADD COLUMN active BOOLEAN NOT NULL DEFAULT true",
            """
            UPDATE messages m SET parent_id = (
                SELECT p.id FROM messages p WHERE p.conversation_id = m.conversation_id AND p.idx < m.idx
                ORDER BY p.idx DESC LIMIT 1)
            WHERE m.role <> 'assistant'
            """,
            "CREATE INDEX messages_by_parent ON messages (conversation_id, parent_id)",
            "ALTER TABLE conversations ADD COLUMN leaf_id UUID",
            "ALTER TABLE conversations ADD COLUMN previous_leaf_id UUID",
            """
            UPDATE conversations c SET leaf_id = (
                SELECT m.id FROM messages m WHERE m.conversation_id = c.id ORDER BY m.idx DESC LIMIT 1)
            """,
        ]),
        ("024_attachments", [
            // Files and images attached to messages, stored once per owner by content; a message keeps references
            // (id, name, type, size, tokens) as JSON, so pages need no join.
            """
            CREATE TABLE attachments (
                id UUID PRIMARY KEY,
                owner_id TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                name TEXT NOT NULL,
                media_type TEXT NOT NULL,
                kind TEXT NOT NULL,
                byte_count BIGINT NOT NULL,
                text TEXT,
                bytes BYTEA NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX attachments_by_content ON attachments (owner_id, sha256)",
            "ALTER TABLE messages ADD COLUMN attachments TEXT",
        ]),
        ("025_retrieval_settings", [
            // How a conversation's or an assistant's turns search their knowledge bases, as JSON; NULL: the defaults.
            "ALTER TABLE conversations ADD COLUMN retrieval TEXT",
            "ALTER TABLE assistants ADD COLUMN retrieval TEXT",
        ]),
    ]

    static func apply(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS parley_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: logger)
            var applied = Set<String>()
            for try await version in try await connection.query("SELECT version FROM parley_migrations", logger: logger)
                .decode(String.self) {
                applied.insert(version)
            }
            for migration in all where !applied.contains(migration.version) {
                try await connection.withTransaction(logger: logger) { transaction in
                    for statement in migration.statements {
                        try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    let now = Date().millis
                    try await transaction.query(
                        "INSERT INTO parley_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                        logger: logger)
                }
                logger.info("applied migration", metadata: ["version": "\(migration.version)"])
            }
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
        try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
    }
}

import Foundation
